"""Two lanes of writes (issue 16, connector/sync/lanes.py): while the batch lane is full for now, the
oldest waiting write goes on its own in the requests the batch lane leaves, still exactly once and
within every limit QuickBooks sets. Time is the sandbox's clock: a governor wait advances it."""

from __future__ import annotations

import threading
from collections import Counter
from unittest.mock import patch

import pytest

from connector.errors import ReauthRequired
from connector.models import ExternalRecord, SyncRun
from connector.qbo.client import QBOClient
from connector.qbo.governor import Limits, LocalGovernor
from connector.sync import batch, engine
from connector.sync.records import process_bill

BATCHES_PER_MINUTE = 2


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "BATCH_SIZE", 3)
    monkeypatch.setattr(batch, "MIN_BATCH", 2)


@pytest.fixture
def throttled(harness, settings):
    """QuickBooks' limits enforced by the sandbox, two batches a minute; our governor paced the same."""
    settings.QBO_WRITE_LANES = "batch+single"
    sb = harness.sb
    sb.faults.update(throttle=True, batch_per_minute=BATCHES_PER_MINUTE)
    limits = Limits(per_minute=480, per_second=9, batch_per_minute=BATCHES_PER_MINUTE, in_flight=8)
    governor = LocalGovernor(limits, clock=lambda: sb.clock.now().timestamp())
    harness.qbo = QBOClient(
        sb.qbo_urls()["api_base"],
        harness.realm_id,
        harness.qbo._token_provider,
        http=harness.http,
        sleep=lambda seconds: sb.clock.advance(seconds),
        clock=sb.clock.now,
        governor=governor,
    )
    return harness


def _stats(harness) -> dict:
    return harness.sb.qbo.stats(harness.realm_id)


def test_while_the_batch_lane_is_full_single_writes_go_beside_it_exactly_once(throttled, org_a) -> None:
    harness = throttled
    setup = harness.run(org_a, steps=("token_check", "reference", "vendors", "purchase_orders"))
    assert setup.status == SyncRun.Status.SUCCEEDED, setup.error
    harness.sb.clock.advance(61)  # the setup's batches leave the window: the bills step starts afresh
    # Simulated time passes at once on the batch's thread: hold each batch until a single went beside
    # it, as a batch waiting for its slot for real would be (at most a second, then it goes).
    single_sent, batch, create = threading.Event(), harness.qbo.batch, harness.qbo.create

    def slow_batch(items, **kwargs):
        single_sent.wait(timeout=1)
        single_sent.clear()
        return batch(items, **kwargs)

    def create_beside(entity, body, **kwargs):
        created = create(entity, body, **kwargs)
        single_sent.set()
        return created

    harness.qbo.batch, harness.qbo.create = slow_batch, create_beside  # type: ignore[method-assign]

    run = harness.run(org_a, steps=("bills",))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    stats = _stats(harness)
    assert stats["throttled"] == 0  # the sandbox enforced every limit and answered no 429
    assert stats["by_endpoint"].get("write:batch", 0) >= BATCHES_PER_MINUTE
    links = ExternalRecord.objects.filter(organisation=org_a, object_type__in=("bill", "vendor_credit"))
    synced = links.filter(state="synced")
    assert synced.count() == links.count() > 0
    batched = [r for r in synced if ":b" in r.request_id]
    single = [r for r in synced if ":b" not in r.request_id]
    assert batched and single  # both lanes wrote bills
    qbo_bills = harness.sb.qbo.objects(harness.realm_id, "Bill")
    qbo_credits = harness.sb.qbo.objects(harness.realm_id, "VendorCredit")
    notes = [(b.get("PrivateNote") or "").split(" ")[0] for b in qbo_bills + qbo_credits]
    markers = Counter(n for n in notes if n.startswith("procurify:"))
    assert max(markers.values()) == 1 and len(markers) == synced.count()  # every bill exactly once

    again = harness.run(org_a, steps=("bills",))  # nothing changed: nothing is written again
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert again.counts["by_type"]["bill"].get("created", 0) == 0
    assert _stats(harness)["throttled"] == 0


def _bills_exactly_once(harness, org_a) -> int:
    links = ExternalRecord.objects.filter(organisation=org_a, object_type__in=("bill", "vendor_credit"))
    assert links.filter(state="synced").count() == links.count() > 0
    objects = harness.sb.qbo.objects(harness.realm_id, "Bill")
    objects += harness.sb.qbo.objects(harness.realm_id, "VendorCredit")
    notes = [(o.get("PrivateNote") or "").split(" ")[0] for o in objects]
    markers = Counter(n for n in notes if n.startswith("procurify:"))
    assert max(markers.values()) == 1 and len(markers) == links.count()
    return links.count()


def test_a_batch_goes_on_a_background_thread_and_its_metered_call_is_counted(harness, org_a) -> None:
    setup = harness.run(org_a, steps=("token_check", "reference", "vendors", "purchase_orders"))
    assert setup.status == SyncRun.Status.SUCCEEDED, setup.error
    posted_on: list[str] = []
    metered: list[str] = []
    original = harness.qbo.batch

    def batch_on(items, **kwargs):
        posted_on.append(threading.current_thread().name)
        return original(items, **kwargs)

    harness.qbo.batch = batch_on  # type: ignore[method-assign]
    harness.qbo.on_metered = metered.append
    before = harness.sb.qbo.stats(harness.realm_id)["by_endpoint"].get("write:batch", 0)

    run = harness.run(org_a, steps=("bills",))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert posted_on and all(name.startswith("qbo-write") for name in posted_on)
    sent = harness.sb.qbo.stats(harness.realm_id)["by_endpoint"].get("write:batch", 0) - before
    assert metered.count("batches") == sent == len(posted_on)  # reported on the main thread
    _bills_exactly_once(harness, org_a)


def test_a_batch_whose_token_expired_on_its_way_is_sent_again_once(harness, org_a) -> None:
    setup = harness.run(org_a, steps=("token_check", "reference", "vendors", "purchase_orders"))
    assert setup.status == SyncRun.Status.SUCCEEDED, setup.error
    detached, expired = harness.qbo.detached, []

    def detached_then_expired():
        twin, metered = detached()
        if not expired:  # QuickBooks drops the token the batch carries, before the batch arrives
            expired.append(harness.sb.qbo.expire_tokens(harness.realm_id))
        return twin, metered

    harness.qbo.detached = detached_then_expired  # type: ignore[method-assign]

    run = harness.run(org_a, steps=("bills",))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert expired == [1] or (expired and expired[0] >= 1)
    assert _bills_exactly_once(harness, org_a) > batch.BATCH_SIZE


def test_a_step_that_stops_with_a_batch_on_its_way_waits_for_it_and_the_next_run_adopts(
    harness, org_a
) -> None:
    setup = harness.run(org_a, steps=("token_check", "reference", "vendors", "purchase_orders"))
    assert setup.status == SyncRun.Status.SUCCEEDED, setup.error
    landed = threading.Event()
    original = harness.qbo.batch

    def slow_batch(items, **kwargs):
        result = original(items, **kwargs)
        landed.set()
        return result

    def bill_fails_hard(ctx, uuid, sink):
        if sink.batch.flight is not None or landed.is_set():
            raise ReauthRequired("QuickBooks stopped answering us.")  # stops the step mid-flight
        return process_bill(ctx, uuid, sink)

    harness.qbo.batch = slow_batch  # type: ignore[method-assign]
    with patch.object(engine, "process_bill", bill_fails_hard):
        stopped = harness.run(org_a, steps=("bills",))

    assert stopped.status == SyncRun.Status.FAILED
    assert landed.is_set()  # the step waited for the batch on its way before it ended
    harness.qbo.batch = original  # type: ignore[method-assign]
    again = harness.run(org_a, steps=("bills",))
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    _bills_exactly_once(harness, org_a)
