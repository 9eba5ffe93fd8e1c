"""Bill writes through QBO /batch stay exactly once: lost answers, refused items, stale tokens, a
worker killed after the POST. Batches are made small here (the distributor seed has ~20 bills)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from connector.errors import Retryable
from connector.models import ExternalRecord, HeldRecord, SyncRun
from connector.sync import batch, runs

SETUP = ("token_check", "reference", "vendors", "purchase_orders")


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "BATCH_SIZE", 5)
    monkeypatch.setattr(batch, "MIN_BATCH", 3)


def _markers(bills: list[dict]) -> Counter[str]:
    return Counter((b.get("PrivateNote") or "").split(" ")[0] for b in bills)


def _stat(harness, key: str) -> int:
    return int(harness.sb.qbo.stats(harness.realm_id)["by_endpoint"].get(key, 0))


def _setup(harness, org) -> None:
    run = harness.run(org, steps=SETUP)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error


def _bills_run(harness, org) -> SyncRun:
    return harness.run(org, steps=("bills",))


def _assert_exactly_once(harness, org) -> None:
    markers = _markers(harness.bills())
    assert markers and max(markers.values()) == 1
    synced = ExternalRecord.objects.filter(organisation=org, object_type="bill", state="synced")
    assert {f"procurify:bill:{r.procurify_id}" for r in synced} == set(markers)
    assert {r.qbo_id for r in synced} == {b["Id"] for b in harness.bills()}


def test_it_writes_bills_in_batches_with_a_persisted_request_id_per_item(harness, org_a):
    _setup(harness, org_a)

    run = _bills_run(harness, org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert _stat(harness, "write:batch") >= 2
    _assert_exactly_once(harness, org_a)
    ids = ExternalRecord.objects.filter(organisation=org_a, object_type="bill").values_list(
        "request_id", flat=True
    )
    batched = [r for r in ids if ":b" in r]
    assert batched and all(len(r.split(":")[0]) <= 36 and len(r.split(":")[1]) <= 10 for r in batched)
    credits = harness.sb.qbo.objects(harness.realm_id, "VendorCredit")  # negative bills, counted as bills
    assert run.counts["by_type"]["bill"]["created"] == len(harness.bills()) + len(credits)


def test_a_lost_batch_response_is_replayed_not_duplicated(harness, org_a):
    _setup(harness, org_a)
    harness.sb.faults.lose_next(1)  # the first batch commits, then its answer is lost

    run = _bills_run(harness, org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert _stat(harness, "write:replay") == 1  # the retry reused the batch requestid
    _assert_exactly_once(harness, org_a)


def test_a_batch_that_fails_after_qbo_committed_is_adopted_item_by_item(harness, org_a):
    _setup(harness, org_a)
    original = harness.qbo.batch
    calls = {"n": 0}

    def commit_then_fail(items, **kwargs):
        original(items, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:  # retries exhausted: ambiguous, although every item landed
            raise Retryable("QuickBooks had an internal problem (HTTP 503).", code="qbo_unavailable")
        return original(items, **kwargs)

    harness.qbo.batch = commit_then_fail  # type: ignore[method-assign]
    run = _bills_run(harness, org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    _assert_exactly_once(harness, org_a)
    creates = _stat(harness, "write:create Bill")
    assert creates == len(harness.bills())  # adopted by marker, never POSTed twice


def test_a_refused_batch_item_becomes_the_same_hold_as_a_single_write(harness, org_a):
    _setup(harness, org_a)
    dates = sorted(
        (b.get("invoice_date") or "")[:10]
        for b in harness.sb.procurify.bills("northwind")
        if b["status"] in (2, 4) and b.get("invoice_date")
    )
    close = date.fromisoformat(dates[len(dates) // 2])  # about half the bills fall in a closed period
    harness.sb.qbo.set_book_close_date(harness.realm_id, close)

    run = _bills_run(harness, org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert _stat(harness, "write:batch") >= 1
    closed = HeldRecord.objects.filter(organisation=org_a, reason_code="period_closed", state="held")
    assert closed.exists() and harness.bills()
    assert all("payload_hash" in h.detail for h in closed)  # not re-sent unchanged (holds.refused_recently)
    held_ids = set(closed.values_list("procurify_id", flat=True))
    in_qbo = {m.removeprefix("procurify:bill:") for m in _markers(harness.bills())}
    assert not held_ids & in_qbo
    writes = harness.writes()
    assert _bills_run(harness, org_a).status == SyncRun.Status.SUCCEEDED
    assert harness.writes() == writes  # an unchanged poll: the refused items are not re-sent


def test_a_stale_sync_token_in_a_batch_update_re_reads_and_retries(harness, org_a):
    _setup(harness, org_a)
    _bills_run(harness, org_a)
    records = list(ExternalRecord.objects.filter(organisation=org_a, object_type="bill", state="synced"))
    for record in records[:6]:
        harness.sb.procurify.edit_bill("northwind", record.procurify_id, due_date="2027-01-15")
    harness.sb.qbo.edit_as_user(harness.realm_id, "bill", records[0].qbo_id, Memo="edited in QBO")
    harness.sb.clock.advance(minutes=5)

    run = _bills_run(harness, org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.counts["by_type"]["bill"]["updated"] == 6
    fresh = next(b for b in harness.bills() if b["Id"] == records[0].qbo_id)
    records[0].refresh_from_db()
    assert fresh["DueDate"] == "2027-01-15" and fresh["SyncToken"] == records[0].sync_token
    _assert_exactly_once(harness, org_a)


def test_a_worker_killed_after_the_batch_post_is_adopted_by_the_next_run(harness, org_a):
    _setup(harness, org_a)
    original = harness.qbo.batch

    def post_then_die(items, **kwargs):
        original(items, **kwargs)
        raise KeyboardInterrupt  # QBO committed; we die before storing a single Id

    harness.qbo.batch = post_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        _bills_run(harness, org_a)
    harness.qbo.batch = original  # type: ignore[method-assign]
    stuck = list(ExternalRecord.objects.filter(organisation=org_a, object_type="bill", state="creating"))
    assert len(stuck) == batch.BATCH_SIZE and len(harness.bills()) == batch.BATCH_SIZE

    harness.sb.clock.advance(hours=1)
    assert runs.reap_abandoned(harness.sb.clock.now()) == 1
    run = _bills_run(harness, org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    _assert_exactly_once(harness, org_a)
    for record in stuck:
        record.refresh_from_db()
        assert record.state == "synced"
    assert _stat(harness, "write:create Bill") == len(harness.bills())
