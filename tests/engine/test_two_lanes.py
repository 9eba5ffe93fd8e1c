"""Two lanes of writes (issue 16, connector/sync/lanes.py): while the batch lane is full for now, the
oldest waiting write goes on its own in the requests the batch lane leaves, still exactly once and
within every limit QuickBooks sets. Time is the sandbox's clock: a governor wait advances it."""

from __future__ import annotations

from collections import Counter

import pytest

from connector.models import ExternalRecord, SyncRun
from connector.qbo.client import QBOClient
from connector.qbo.governor import Limits, LocalGovernor
from connector.sync import batch

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
