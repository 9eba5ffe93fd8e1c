from __future__ import annotations

from decimal import Decimal

from connector.client_factory import FixedClients
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from mappings.models import AccountMapping, QBOAccount
from mappings.services import save_account_mapping
from sandbox.qbo_tax import add_name


def test_it_makes_zero_qbo_writes_when_nothing_changed(harness, org_a):
    harness.run(org_a)
    writes = harness.writes()
    harness.sb.clock.advance(minutes=10)

    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert harness.writes() == writes
    assert run.counts["created"] == run.counts["updated"] == 0


def test_it_counts_bills_in_the_overlap_as_unchanged_when_rerun_at_once(harness, org_a):
    harness.run(org_a)
    writes = harness.writes()

    harness.sb.procurify.edit_bill("northwind", harness.procurify_bill("OB-7781")["uuid"], note="seen")
    run = harness.run(org_a)

    # The bill was re-read (its note is not part of the QBO payload) and found unchanged.
    assert harness.writes() == writes
    assert run.counts["by_type"]["bill"]["unchanged"] >= 1


def test_it_updates_the_same_qbo_bill_when_edited_in_procurify(harness, org_a):
    harness.run(org_a)
    before = harness.bill_by_doc("OB-7781")
    uuid = harness.procurify_bill("OB-7781")["uuid"]
    harness.sb.clock.advance(minutes=10)

    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-A")
    run = harness.run(org_a)

    after = harness.bill_by_doc("OB-7781-A")
    assert after["Id"] == before["Id"]
    assert int(after["SyncToken"]) == int(before["SyncToken"]) + 1
    assert run.counts["by_type"]["bill"]["updated"] == 1
    assert len([b for b in harness.bills() if uuid in b["PrivateNote"]]) == 1


def test_it_rereads_and_retries_when_qbo_says_the_sync_token_is_stale(harness, org_a):
    harness.run(org_a)
    before = harness.bill_by_doc("OB-7781")
    uuid = harness.procurify_bill("OB-7781")["uuid"]
    # A field we never send: our sparse update leaves it alone, so re-reading and retrying is safe (a
    # change to a field we write is held instead: tests/engine/test_drift.py).
    # The company tracks locations (the organisation does not map any), so a person may set one.
    realm = harness.sb.qbo.realm(harness.realm_id)
    realm.track_departments = True
    location = add_name(realm, harness.sb.clock.now(), "Department", "Warehouse")
    harness.sb.qbo.edit_as_user(
        harness.realm_id, "Bill", before["Id"], DepartmentRef={"value": location["Id"]}
    )
    harness.sb.clock.advance(minutes=10)

    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-B")
    run = harness.run(org_a)

    after = harness.bill_by_doc("OB-7781-B")
    assert after["Id"] == before["Id"] and int(after["SyncToken"]) == int(before["SyncToken"]) + 2
    assert after["DepartmentRef"]["value"] == location["Id"]
    assert run.counts["by_type"]["bill"]["updated"] == 1
    assert AuditEvent.objects.filter(
        organisation=org_a, procurify_id=uuid, message__startswith="Re-read"
    ).exists()
    record = ExternalRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert record.sync_token == after["SyncToken"]


def test_it_holds_a_bill_paid_in_qbo_instead_of_overwriting_it(harness, org_a):
    harness.run(org_a)
    before = harness.bill_by_doc("OB-7781")
    uuid = harness.procurify_bill("OB-7781")["uuid"]
    harness.sb.qbo.mark_bill_paid(harness.realm_id, before["Id"])
    harness.sb.clock.advance(minutes=10)

    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-C")
    harness.run(org_a)

    held = HeldRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert held.reason_code == "bill_paid_in_qbo"
    after = next(b for b in harness.bills() if b["Id"] == before["Id"])
    assert after["DocNumber"] == "OB-7781" and Decimal(str(after["Balance"])) == 0


def test_it_syncs_a_held_bill_on_the_next_run_when_its_mapping_is_saved(harness, org_a):
    harness.run(org_a)
    held = HeldRecord.objects.get(organisation=org_a, label__contains="GLF-20931")
    code = AccountMapping.objects.get(organisation=org_a, code="6550")
    shop = QBOAccount.objects.get(organisation=org_a, acct_num="6400")

    save_account_mapping(org_a, code.procurify_account_code_id, shop.qbo_id)

    held.refresh_from_db()
    assert held.state == HeldRecord.State.RELEASED
    code.refresh_from_db()
    assert code.source == "manual"
    harness.sb.clock.advance(minutes=10)
    run = harness.run(org_a)
    held.refresh_from_db()
    assert held.state == HeldRecord.State.RESOLVED
    assert harness.bill_by_doc("GLF-20931")
    assert run.counts["by_type"]["bill"]["created"] == 1
    # A later refresh does not overwrite the manual choice.
    code.refresh_from_db()
    assert (code.source, code.qbo_account_id) == ("manual", shop.qbo_id)


def test_it_releases_vendor_holds_when_the_vendor_is_reactivated_in_qbo(harness, org_a):
    harness.run(org_a)
    delta = next(
        v for v in harness.sb.qbo.objects(harness.realm_id, "Vendor") if v["DisplayName"].startswith("Delta")
    )
    harness.sb.qbo.edit_as_user(harness.realm_id, "Vendor", delta["Id"], Active=True)
    harness.sb.clock.advance(minutes=10)

    harness.run(org_a)

    assert not HeldRecord.objects.filter(
        organisation=org_a, reason_code="vendor_inactive", state="held"
    ).exists()
    assert [b for b in harness.bills() if b["VendorRef"]["value"] == delta["Id"]]


def test_it_holds_a_bill_voided_in_procurify_and_leaves_qbo_alone(harness, org_a):
    harness.run(org_a)
    before = harness.bill_by_doc("OB-7781")
    uuid = harness.procurify_bill("OB-7781")["uuid"]
    harness.sb.clock.advance(minutes=10)

    harness.sb.procurify.void_bill("northwind", uuid)
    harness.run(org_a)

    held = HeldRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert held.reason_code == "bill_voided_in_procurify"
    assert any(b["Id"] == before["Id"] for b in harness.bills())


def test_it_replays_one_record_through_the_pipeline(harness, org_a):
    from connector.sync.engine import replay_record

    harness.run(org_a)
    uuid = harness.procurify_bill("OB-7781")["uuid"]

    outcome = replay_record(
        org_a.pk,
        "bill",
        uuid,
        clients=FixedClients(harness.procurify, harness.qbo),
        clock=harness.sb.clock.now,
    )

    assert outcome == "unchanged"
    assert SyncRun.objects.filter(organisation=org_a, trigger="replay", status="succeeded").count() == 1


def test_it_does_not_resend_what_quickbooks_refused_until_the_cooldown(harness, org_a) -> None:
    from datetime import date, timedelta

    from django.utils import timezone

    from connector.models import HeldRecord

    # The books close after we read the company's settings, so QuickBooks itself refuses the writes (with
    # the close date known in advance, bills are held before they are sent: test_closed_books.py).
    harness.run(org_a, steps=("token_check", "reference"))
    steps = ("token_check", "vendors", "purchase_orders", "bills")
    harness.sb.qbo.set_book_close_date(harness.realm_id, date(2030, 1, 1))  # every bill date is closed
    harness.run(org_a, steps=steps)
    closed = HeldRecord.objects.filter(organisation=org_a, reason_code="period_closed")
    assert closed.exists()
    assert "closed" in closed.first().message.lower()

    harness.sb.qbo.set_book_close_date(harness.realm_id, None)  # the accountant reopens the period
    writes = harness.writes()
    second = harness.run(org_a, steps=steps)
    from connector.models import AuditEvent

    sent = list(AuditEvent.objects.filter(run=second, kind="request").values_list("message", flat=True))
    assert harness.writes() == writes, f"an unchanged poll re-sent what QuickBooks had refused: {sent}"

    closed.update(last_held_at=timezone.now() - timedelta(hours=7))
    harness.run(org_a, steps=steps)
    assert harness.writes() > writes
    assert not HeldRecord.objects.filter(
        organisation=org_a, reason_code="period_closed", state=HeldRecord.State.HELD
    ).exists()
