"""The reconciliation's pages before anything is connected, and who may read them."""

from __future__ import annotations


def test_it_says_what_to_connect_first(org_a, owner) -> None:
    response = owner.client.get(f"/o/{org_a.public_id}/reconciliation/")
    assert response.status_code == 200 and response.context["result"] is None
    assert "not connected yet" in response.content.decode()
    csv = owner.client.get(f"/o/{org_a.public_id}/reconciliation/csv/")
    assert csv.status_code == 302 and csv["Location"].endswith(f"/o/{org_a.public_id}/reconciliation/")


def test_a_viewer_reads_it_and_an_outsider_does_not(org_a, viewer, outsider) -> None:
    assert viewer.client.get(f"/o/{org_a.public_id}/reconciliation/").status_code == 200
    assert outsider.client.get(f"/o/{org_a.public_id}/reconciliation/").status_code == 404
    assert outsider.client.get(f"/o/{org_a.public_id}/reconciliation/csv/").status_code == 404
