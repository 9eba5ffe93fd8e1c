"""Run history (filterable) and a run's page listing the records it touched."""

from __future__ import annotations

from web_support import event, run

from connector.models import SyncRun


def test_it_lists_runs_with_counts_and_errors_filtered_by_status(org_a, org_b, owner) -> None:
    run(org_a, counts={"created": 4, "updated": 2, "unchanged": 9, "held": 1})
    run(org_a, status=SyncRun.Status.FAILED, error="QuickBooks needs reconnecting.")
    run(org_b, status=SyncRun.Status.FAILED, error="Contoso's secret failure")
    page = owner.client.get(f"/o/{org_a.public_id}/runs/").content.decode()
    assert "QuickBooks needs reconnecting." in page and "Contoso" not in page
    failed = owner.client.get(f"/o/{org_a.public_id}/runs/", {"status": "failed"})
    assert [r.status for r in failed.context["page"].object_list] == ["failed"]
    empty = owner.client.get(f"/o/{org_a.public_id}/runs/", {"status": "running"}).content.decode()
    assert "No running runs." in empty


def test_it_shows_the_records_a_run_touched(org_a, owner) -> None:
    this, other = run(org_a, counts={"created": 1}), run(org_a)
    event(org_a, "b1", "request", "Create Bill", run=this)
    event(org_a, "b1", "response", "Created Bill 145", run=this)
    event(org_a, "p1", "read", "Read PO", run=this, object_type="purchase_order")
    event(org_a, "b9", "read", "Read in another run", run=other)
    response = owner.client.get(f"/o/{org_a.public_id}/runs/{this.public_id}/")
    rows = {(r["object_type"], r["procurify_id"]): r["events"] for r in response.context["page"].object_list}
    assert rows == {("bill", "b1"): 2, ("purchase_order", "p1"): 1}
    assert f"/o/{org_a.public_id}/records/bill/b1/" in response.content.decode()


def test_it_answers_404_for_another_organisations_run(org_a, org_b, owner) -> None:
    theirs = run(org_b)
    assert owner.client.get(f"/o/{org_a.public_id}/runs/{theirs.public_id}/").status_code == 404
