"""Runs that survive their own length and one bad record (issue 11 items 7 and 8): per-record isolation,
stable keys for unreadable records, throttle pauses within a budget, and queued runs that wait for
capacity instead of being abandoned."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sandbox_wiring import connect_procurify

from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from connector.procurify.schemas import MalformedRecord
from connector.sync import engine, records, runs
from connector.sync.transform import SYNC_STATUSES
from tenants.models import Connection, Provider
from tests.engine.conftest import DOMAIN, no_sleep

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _approved(harness) -> list[str]:
    return [b["uuid"].replace("-", "") for b in harness.sb.procurify.bills(DOMAIN) if b["status"] == 2]


def test_an_unexpected_error_in_one_bill_holds_that_bill_and_the_run_goes_on(
    harness, org_a, monkeypatch
) -> None:
    poison = _approved(harness)[3]
    real_plan = records.bill_plan

    def plan(bill, *args, **kwargs):
        if bill.uuid.replace("-", "") == poison:
            raise KeyError("allocations")
        return real_plan(bill, *args, **kwargs)

    monkeypatch.setattr(records, "bill_plan", plan)

    run = harness.run(org_a, sleep=no_sleep)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    hold = HeldRecord.objects.get(organisation=org_a, object_type="bill", procurify_id=poison)
    assert hold.reason_code == "sync_failed"
    assert hold.message.startswith("We could not sync this record: An unexpected error (KeyError)")
    assert AuditEvent.objects.filter(organisation=org_a, procurify_id=poison, kind="error").exists()
    assert run.counts["by_type"]["bill"]["failed"] == 1
    others = [u for u in _approved(harness) if u != poison]
    written = set(
        ExternalRecord.objects.filter(organisation=org_a, object_type__in=("bill", "vendor_credit"))
        .exclude(qbo_id="")
        .values_list("procurify_id", flat=True)
    )
    held = set(HeldRecord.objects.filter(organisation=org_a).values_list("procurify_id", flat=True))
    assert all(u in written | held for u in others)

    monkeypatch.setattr(records, "bill_plan", real_plan)  # the bug is fixed: the retry releases it
    hours_ago = hold.last_held_at - timedelta(hours=7)  # past the cooldown of holds retried unchanged
    HeldRecord.objects.filter(pk=hold.pk).update(last_held_at=hours_ago)
    again = harness.run(org_a, sleep=no_sleep)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    hold.refresh_from_db()
    assert hold.state == HeldRecord.State.RESOLVED


def test_an_unexpected_error_in_one_purchase_order_holds_that_po(harness, org_a, monkeypatch) -> None:
    real_plan = records.po_plan
    victims: list[str] = []

    def plan(po, *args, **kwargs):
        if not victims or victims[0] == po.uuid:
            victims.append(po.uuid)
            raise ValueError("bad PO data")
        return real_plan(po, *args, **kwargs)

    monkeypatch.setattr(records, "po_plan", plan)
    run = harness.run(org_a, sleep=no_sleep)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    hold = HeldRecord.objects.get(organisation=org_a, object_type="purchase_order", procurify_id=victims[0])
    assert hold.reason_code == "sync_failed" and "ValueError" in hold.message
    assert run.counts["by_type"]["purchase_order"]["created"] >= 1


def test_a_malformed_record_without_an_id_gets_the_same_hold_key_in_every_process(harness, org_a) -> None:
    raw = {"name": "no id here", "amount": "twelve", "nested": {"b": 1, "a": [1, 2]}}
    reordered = {"nested": {"a": [1, 2], "b": 1}, "amount": "twelve", "name": "no id here"}
    run = runs.enqueue_run(org_a)
    ctx = engine._context(org_a, run, harness.procurify, harness.qbo, harness.sb.clock.now, T0)

    records.hold_malformed(ctx, "bill", MalformedRecord(raw=raw, error="amount: not a number"))
    records.hold_malformed(ctx, "bill", MalformedRecord(raw=reordered, error="amount: not a number"))

    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"))
    expected = "malformed:" + hashlib.sha256(canonical.encode()).hexdigest()[:24]
    assert list(HeldRecord.objects.filter(organisation=org_a).values_list("procurify_id", flat=True)) == [
        expected
    ]


@pytest.mark.parametrize("burst", [4, 20])
def test_a_burst_of_429s_at_the_start_pauses_the_run_and_it_succeeds(harness, org_a, burst) -> None:
    harness.sb.faults.throttle_next(burst, target="qbo")
    slept: list[float] = []

    run = harness.run(org_a, sleep=slept.append)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    throttle = run.counts["throttle"]
    assert throttle["pauses"] == burst // 4  # the client tries 4 times before the run pauses
    assert throttle["paused_seconds"] == 60.0 * throttle["pauses"] == sum(slept)
    assert harness.sb.qbo.stats(harness.realm_id)["throttled"] == burst
    approved = [b for b in harness.sb.procurify.bills(DOMAIN) if b["status"] in SYNC_STATUSES]
    assert ExternalRecord.objects.filter(organisation=org_a, object_type="bill").count() <= len(approved)
    assert AuditEvent.objects.filter(organisation=org_a, message__contains="asked us to slow down").exists()


def test_a_throttle_that_outlasts_the_budget_fails_the_run_with_a_sentence(harness, org_a, settings) -> None:
    settings.SYNC_THROTTLE_BUDGET_SECONDS = 120
    harness.sb.faults.throttle_next(1000, target="qbo")

    run = harness.run(org_a, sleep=no_sleep)

    assert run.status == SyncRun.Status.FAILED
    assert "kept asking us to slow down" in run.error and "paused 2 times" in run.error
    assert run.counts["throttle"]["paused_seconds"] == 120.0


def test_a_throttled_bills_step_resumes_without_writing_twice(harness, org_a, monkeypatch) -> None:
    original = harness.procurify.bills_page
    listed = {"pages": 0}

    def throttle_once_bills_are_listed(*args, **kwargs):
        listed["pages"] += 1
        if listed["pages"] == 1:  # QuickBooks starts refusing in the middle of the bills step
            harness.sb.faults.throttle_next(12, target="qbo")
        return original(*args, **kwargs)

    monkeypatch.setattr(harness.procurify, "bills_page", throttle_once_bills_are_listed)
    run = harness.run(org_a, sleep=no_sleep)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.counts["throttle"]["pauses"] >= 1
    markers = [b.get("PrivateNote", "").split(" ")[0] for b in harness.bills()]
    assert len(markers) == len(set(markers))
    for uuid in _approved(harness):
        written = ExternalRecord.objects.filter(organisation=org_a, procurify_id=uuid).exclude(qbo_id="")
        assert written.exists() or HeldRecord.objects.filter(organisation=org_a, procurify_id=uuid).exists()


# ---- queued runs -------------------------------------------------------------------------------------


def _queued_at(org, when: datetime) -> SyncRun:
    run = runs.enqueue_run(org)
    assert run is not None
    SyncRun.objects.filter(pk=run.pk).update(created_at=when)
    return run


def _connect_both(org, sb) -> None:
    connect_procurify(org, sb)
    Connection.objects.create(organisation=org, provider=Provider.QBO, realm_id="123", refresh_token="r")


def test_a_queued_run_waits_for_capacity_instead_of_being_abandoned(org_a, sb) -> None:
    _connect_both(org_a, sb)
    run = _queued_at(org_a, T0)

    assert runs.reap_abandoned(T0 + timedelta(hours=2)) == 0
    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.QUEUED


def test_a_queued_run_is_abandoned_after_the_configured_bound(org_a, sb, settings) -> None:
    _connect_both(org_a, sb)
    settings.SYNC_QUEUED_MAX_WAIT_HOURS = 3
    run = _queued_at(org_a, T0)

    assert runs.reap_abandoned(T0 + timedelta(hours=2, minutes=59)) == 0
    assert runs.reap_abandoned(T0 + timedelta(hours=3, minutes=1)) == 1
    run.refresh_from_db()
    assert run.status == SyncRun.Status.ABANDONED and "never started" in run.error


def test_a_queued_run_its_organisation_can_never_run_is_abandoned_after_the_stale_bound(org_a, sb) -> None:
    _connect_both(org_a, sb)
    Connection.objects.filter(organisation=org_a, provider=Provider.QBO).update(needs_reauth=True)
    run = _queued_at(org_a, T0)

    assert runs.reap_abandoned(T0 + timedelta(minutes=5)) == 0
    assert runs.reap_abandoned(T0 + runs.STALE_AFTER + timedelta(minutes=1)) == 1
    run.refresh_from_db()
    assert run.status == SyncRun.Status.ABANDONED and "needs reconnecting" in run.error
