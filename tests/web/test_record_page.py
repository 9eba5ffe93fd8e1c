"""A record's page: identities, state, the audit timeline newest first with field diffs, replay."""

from __future__ import annotations

from web_support import event, held, run

from connector.models import ExternalRecord, SyncRun


def url(org, object_type: str = "bill", procurify_id: str = "b1") -> str:
    return f"/o/{org.public_id}/records/{object_type}/{procurify_id}/"


def test_it_shows_identities_and_the_timeline_newest_first_with_a_diff(org_a, owner) -> None:
    ExternalRecord.objects.create(
        organisation=org_a,
        object_type="bill",
        procurify_id="b1",
        label="INV-7",
        qbo_entity="Bill",
        qbo_id="145",
        sync_token="2",
        state=ExternalRecord.State.SYNCED,
    )
    event(org_a, "b1", "read", "Read bill INV-7 from Procurify.")
    event(
        org_a,
        "b1",
        "request",
        "Create Bill",
        data={"body": {"TotalAmt": "100.00", "Line": [{"Amount": "100.00"}]}},
    )
    event(org_a, "b1", "response", "Created Bill 145")
    event(
        org_a,
        "b1",
        "request",
        "Update Bill 145",
        data={"body": {"TotalAmt": "120.00", "Line": [{"Amount": "120.00"}], "PrivateNote": "x"}},
    )
    response = owner.client.get(url(org_a))
    page = response.content.decode()
    assert "INV-7" in page and "145" in page and "Synced" in page
    messages = [item["event"].message for item in response.context["timeline"]]
    assert messages == [
        "Update Bill 145",
        "Created Bill 145",
        "Create Bill",
        "Read bill INV-7 from Procurify.",
    ]
    changes = response.context["timeline"][0]["changes"]
    assert {c["field"]: (c["before"], c["after"]) for c in changes} == {
        "Line[0].Amount": ("100.00", "120.00"),
        "PrivateNote": ("—", "x"),
        "TotalAmt": ("100.00", "120.00"),
    }
    assert "Changes since the previous request" in page


def test_it_shows_a_held_record_with_its_reason(org_a, owner) -> None:
    held(org_a, "b2", message="Vendor 'Acme Ltd' is not mapped to a QuickBooks vendor.")
    page = owner.client.get(url(org_a, procurify_id="b2")).content.decode()
    assert "Not in QuickBooks yet" in page and "is not mapped to a QuickBooks vendor" in page


def test_it_answers_404_for_unknown_records_and_types(org_a, org_b, owner) -> None:
    event(org_b, "b1", "read", "Contoso's bill")
    assert owner.client.get(url(org_a)).status_code == 404
    assert owner.client.get(url(org_a, object_type="invoice")).status_code == 404


def test_it_refuses_a_replay_while_a_sync_runs(org_a, owner) -> None:
    event(org_a, "b1", "read", "Read")
    run(org_a, status=SyncRun.Status.RUNNING)
    response = owner.client.post(url(org_a) + "replay/", follow=True)
    assert "A sync is running" in response.content.decode()
    assert SyncRun.objects.filter(organisation=org_a).count() == 1


def test_it_hides_replay_from_viewers(org_a, viewer) -> None:
    event(org_a, "b1", "read", "Read")
    assert "Replay this bill" not in viewer.client.get(url(org_a)).content.decode()
    assert viewer.client.post(url(org_a) + "replay/").status_code == 403


def test_it_links_the_record_in_both_systems(org_a, owner, settings) -> None:
    from connector.models import ExternalRecord
    from tenants.models import Connection, Provider

    settings.QBO_APP_URL = "https://app.sandbox.qbo.intuit.com"
    Connection.objects.create(
        organisation=org_a, provider=Provider.PROCURIFY, site_url="https://northwind.procurify.com"
    )
    ExternalRecord.objects.create(
        organisation=org_a,
        object_type="bill",
        procurify_id="b9",
        qbo_entity="Bill",
        qbo_id="146",
        label="INV-9",
    )
    page = owner.client.get(f"/o/{org_a.public_id}/records/bill/b9/").content.decode()
    assert 'href="https://app.sandbox.qbo.intuit.com/app/bill?txnId=146"' in page
    assert 'href="https://northwind.procurify.com"' in page

    settings.QBO_APP_URL = ""  # the demo's fake QuickBooks has no web app to link to
    assert (
        "open in QuickBooks"
        not in owner.client.get(f"/o/{org_a.public_id}/records/bill/b9/").content.decode()
    )
