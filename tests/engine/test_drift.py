"""Drift in QuickBooks (issue 14): what a person changed, deleted or paid there is shown with a field
diff and never overwritten silently; the daily sweep is one metered CDC read."""

from __future__ import annotations

from connector.client_factory import FixedClients
from connector.models import HeldRecord, QBODrift, SyncRun
from connector.sync import drift_actions
from connector.sync.engine import replay_record


def _setup(harness, org_a, doc: str = "OB-7781"):
    run = harness.run(org_a)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    harness.sb.clock.advance(minutes=10)
    return harness.bill_by_doc(doc), harness.procurify_bill(doc)["uuid"]


def _cdc_reads(harness) -> int:
    return harness.sb.qbo.stats(harness.realm_id)["by_endpoint"].get("read:cdc", 0)


def _reads(harness) -> int:
    return int(harness.sb.qbo.stats(harness.realm_id)["reads"])


def _replay(harness, org_a, uuid: str) -> str:
    return replay_record(
        org_a.pk,
        "bill",
        uuid,
        clients=FixedClients(harness.procurify, harness.qbo),
        clock=harness.sb.clock.now,
    )


def _fields(changes: list[dict]) -> dict[str, tuple[str, str]]:
    return {c["field"]: (c["before"], c["after"]) for c in changes}


def test_a_bill_edited_in_qbo_then_in_procurify_is_held_with_both_diffs(harness, org_a):
    bill, uuid = _setup(harness, org_a)
    harness.sb.qbo.edit_as_user(harness.realm_id, "Bill", bill["Id"], DueDate="2026-04-30")
    harness.run(org_a)

    drift = QBODrift.objects.get(organisation=org_a, procurify_id=uuid)
    assert drift.kind == QBODrift.Kind.CHANGED and drift.state == QBODrift.State.OPEN
    assert _fields(drift.changes) == {"DueDate": (bill["DueDate"], "2026-04-30")}

    harness.sb.clock.advance(minutes=10)
    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-X")
    writes = harness.writes()
    harness.run(org_a)

    assert harness.writes() == writes  # nothing overwritten
    held = HeldRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert held.reason_code == "changed_on_both_sides" and held.state == HeldRecord.State.HELD
    drift.refresh_from_db()
    assert _fields(drift.procurify["changes"]) == {"DocNumber": ("OB-7781", "OB-7781-X")}
    now = harness.sb.qbo.objects(harness.realm_id, "Bill")
    kept = next(b for b in now if b["Id"] == bill["Id"])
    assert (kept["DocNumber"], kept["DueDate"]) == ("OB-7781", "2026-04-30")

    # The person chooses Procurify's version: written once, with QuickBooks' current SyncToken.
    assert drift_actions.decide(drift, drift_actions.USE_PROCURIFY, by="owner@example.com") is True
    assert _replay(harness, org_a, uuid) == "updated"
    after = next(b for b in harness.bills() if b["Id"] == bill["Id"])
    assert after["DocNumber"] == "OB-7781-X" and int(after["SyncToken"]) == int(kept["SyncToken"]) + 1
    assert HeldRecord.objects.get(pk=held.pk).state == HeldRecord.State.RESOLVED


def test_keep_qbo_version_writes_nothing_until_procurify_changes_again(harness, org_a):
    bill, uuid = _setup(harness, org_a)
    harness.sb.qbo.edit_as_user(harness.realm_id, "Bill", bill["Id"], DueDate="2026-04-30")
    harness.run(org_a)
    harness.sb.clock.advance(minutes=10)
    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-Y")
    harness.run(org_a)
    drift = QBODrift.objects.get(organisation=org_a, procurify_id=uuid)

    assert drift_actions.decide(drift, drift_actions.KEEP_QBO, by="owner@example.com") is False
    writes = harness.writes()
    harness.sb.clock.advance(minutes=10)
    harness.run(org_a)
    assert harness.writes() == writes
    assert HeldRecord.objects.get(organisation=org_a, procurify_id=uuid).state == HeldRecord.State.RESOLVED
    assert next(b for b in harness.bills() if b["Id"] == bill["Id"])["DueDate"] == "2026-04-30"

    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-Z")
    harness.run(org_a)
    after = next(b for b in harness.bills() if b["Id"] == bill["Id"])
    assert after["DocNumber"] == "OB-7781-Z" and harness.writes() == writes + 1


def test_a_change_in_qbo_met_by_a_stale_sync_token_is_held_not_overwritten(harness, org_a):
    # No sweep between the two changes: the writer's 5010 re-read sees the person's change.
    bill, uuid = _setup(harness, org_a)
    harness.sb.qbo.edit_as_user(harness.realm_id, "Bill", bill["Id"], DueDate="2026-05-31")
    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-S")

    harness.run(org_a, steps=("token_check", "reference", "vendors", "purchase_orders", "bills"))

    held = HeldRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert held.reason_code == "changed_on_both_sides"
    drift = QBODrift.objects.get(organisation=org_a, procurify_id=uuid)
    assert _fields(drift.changes) == {"DueDate": (bill["DueDate"], "2026-05-31")}
    assert _fields(drift.procurify["changes"]) == {"DocNumber": ("OB-7781", "OB-7781-S")}
    assert next(b for b in harness.bills() if b["Id"] == bill["Id"])["DocNumber"] == "OB-7781"


def test_a_bill_deleted_in_qbo_is_shown_as_drift_and_not_recreated(harness, org_a):
    bill, uuid = _setup(harness, org_a)
    harness.sb.qbo.delete_as_user(harness.realm_id, "Bill", bill["Id"])
    harness.run(org_a)

    drift = QBODrift.objects.get(organisation=org_a, procurify_id=uuid)
    assert drift.kind == QBODrift.Kind.DELETED
    assert _fields(drift.changes)["DocNumber"] == ("OB-7781", "—")

    harness.sb.clock.advance(minutes=10)
    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-D")
    writes = harness.writes()
    harness.run(org_a)
    assert harness.writes() == writes
    assert HeldRecord.objects.get(organisation=org_a, procurify_id=uuid).reason_code == "deleted_in_qbo"
    assert not [b for b in harness.bills() if uuid in b.get("PrivateNote", "")]

    # A person chooses to re-create it: one new bill, today's number.
    assert drift_actions.decide(drift, drift_actions.RECREATE, by="owner@example.com") is True
    assert _replay(harness, org_a, uuid) == "created"
    again = [b for b in harness.bills() if uuid in b.get("PrivateNote", "")]
    assert [b["DocNumber"] for b in again] == ["OB-7781-D"] and again[0]["Id"] != bill["Id"]


def test_a_bill_paid_in_qbo_shows_as_paid_and_is_never_rewritten(harness, org_a):
    bill, uuid = _setup(harness, org_a)
    harness.sb.qbo.mark_bill_paid(harness.realm_id, bill["Id"], "10.00")  # part-paid
    harness.run(org_a)

    drift = QBODrift.objects.get(organisation=org_a, procurify_id=uuid)
    assert drift.kind == QBODrift.Kind.PAID
    balance = _fields(drift.changes)["Balance"]
    assert balance[0] != balance[1]

    harness.sb.clock.advance(minutes=10)
    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="OB-7781-P")
    writes = harness.writes()
    harness.run(org_a)
    assert harness.writes() == writes
    assert HeldRecord.objects.get(organisation=org_a, procurify_id=uuid).reason_code == "bill_paid_in_qbo"
    assert next(b for b in harness.bills() if b["Id"] == bill["Id"])["DocNumber"] == "OB-7781"


def test_a_sweep_costs_one_cdc_read_and_an_unchanged_day_records_nothing(harness, org_a):
    _setup(harness, org_a)
    reads, cdc, writes = _reads(harness), _cdc_reads(harness), harness.writes()

    run = harness.run(org_a, steps=("drift",))

    assert _cdc_reads(harness) == cdc + 1 and _reads(harness) == reads + 1
    assert run.counts["by_type"]["drift"]["metered_reads"] == 1
    assert harness.writes() == writes
    assert not QBODrift.objects.filter(organisation=org_a).exists()


def test_the_reads_a_sweep_reports_are_the_reads_the_sandbox_counted(harness, org_a):
    bill, _ = _setup(harness, org_a)
    harness.sb.qbo.edit_as_user(harness.realm_id, "Bill", bill["Id"], DueDate="2026-04-30")
    before = _reads(harness)

    run = harness.run(org_a, steps=("drift",))

    reported = run.counts["by_type"]["drift"]["metered_reads"]
    assert reported == _reads(harness) - before == 1
    assert QBODrift.objects.get(organisation=org_a).metered_reads == reported


def test_a_sweep_older_than_cdc_look_back_falls_back_to_queries_and_still_finds_deletions(harness, org_a):
    from datetime import timedelta

    from connector.models import SyncCursor

    bill, uuid = _setup(harness, org_a)
    harness.sb.qbo.delete_as_user(harness.realm_id, "Bill", bill["Id"])
    harness.sb.clock.advance(days=40)  # no sweep for 40 days: CDC would refuse the window
    SyncCursor.objects.filter(organisation=org_a, stream="drift_sweep").update(
        value=harness.sb.clock.now() - timedelta(days=40)
    )
    cdc, before = _cdc_reads(harness), _reads(harness)

    run = harness.run(org_a, steps=("drift",))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert _cdc_reads(harness) == cdc  # not one CDC call
    assert run.counts["by_type"]["drift"]["metered_reads"] == _reads(harness) - before
    assert QBODrift.objects.get(organisation=org_a, procurify_id=uuid).kind == QBODrift.Kind.DELETED


def test_a_capped_cdc_answer_is_completed_entity_by_entity(harness, org_a):
    bill, uuid = _setup(harness, org_a)
    realm = harness.sb.qbo.realm(harness.realm_id)
    vendor = harness.sb.qbo.objects(harness.realm_id, "Vendor")[0]
    for n in range(1001):  # someone imported a thousand vendors: CDC's cap is reached
        realm.insert("Vendor", {**vendor, "DisplayName": f"Imported {n}"}, harness.sb.clock.now())
    harness.sb.clock.advance(minutes=1)
    harness.sb.qbo.edit_as_user(harness.realm_id, "Bill", bill["Id"], DueDate="2026-06-30")
    before = _reads(harness)

    run = harness.run(org_a, steps=("drift",))

    reported = run.counts["by_type"]["drift"]["metered_reads"]
    assert reported == _reads(harness) - before and reported > 1
    drift = QBODrift.objects.get(organisation=org_a, procurify_id=uuid)
    assert _fields(drift.changes) == {"DueDate": (bill["DueDate"], "2026-06-30")}
