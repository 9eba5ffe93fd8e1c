"""A measurement, not a check (opt in: LANE_CEILING=1): the items a minute the write lanes reach when only
QuickBooks' limits and a 100 ms QuickBooks round trip count. Time is the sandbox's clock: each QuickBooks
request advances it by the latency, each governor wait by the wait; CPU and Procurify reads are free.
docs/benchmarks.md ("Two write lanes") has the figures and the command."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import httpx
import pytest

from connector.http import build_client
from connector.models import ExternalRecord, SyncRun
from connector.qbo.client import QBOClient
from connector.qbo.governor import Limits, LocalGovernor
from sandbox import Sandbox
from tests.engine.conftest import build_harness

BILLS = int(os.environ.get("LANE_CEILING_BILLS", "3000"))
LATENCY_S = 0.1
SETUP = ("token_check", "reference", "vendors", "purchase_orders")


class QBOLatency(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, sb: Sandbox) -> None:
        self.inner, self.sb = inner, sb

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/v3/company/" in request.url.path:
            self.sb.clock.advance(LATENCY_S)
        return self.inner.handle_request(request)


@pytest.mark.skipif(not os.environ.get("LANE_CEILING"), reason="a measurement: set LANE_CEILING=1")
@pytest.mark.parametrize("lanes", ["batch+single", "batch"])
def test_items_a_minute_of_the_write_lanes(lanes: str, org_a, settings) -> None:
    settings.QBO_WRITE_LANES = lanes
    sb = Sandbox.create(
        "large", now=datetime(2026, 3, 2, 17, 0, tzinfo=UTC), n_bills=BILLS, n_vendors=BILLS // 20,
        n_pos=BILLS // 10,
    )  # fmt: skip
    sb.faults.update(throttle=True)  # QuickBooks' limits: 500 a minute, 40 batches a minute, 10 in flight
    harness = build_harness(sb, domain=next(iter(sb.credentials["procurify"])))
    clock = sb.clock
    harness.qbo = QBOClient(
        sb.qbo_urls()["api_base"],
        harness.realm_id,
        harness.qbo._token_provider,
        http=build_client(transport=QBOLatency(sb.transport(), sb)),
        sleep=lambda seconds: clock.advance(seconds),
        clock=clock.now,
        governor=LocalGovernor(Limits(), clock=lambda: clock.now().timestamp()),
    )
    started = clock.now()
    setup = harness.run(org_a, steps=SETUP)
    setup_done = clock.now()
    bills = harness.run(org_a, steps=("bills",))
    done = clock.now()

    assert setup.status == bills.status == SyncRun.Status.SUCCEEDED, (setup.error, bills.error)
    stats = sb.qbo.stats(harness.realm_id)
    links = ExternalRecord.objects.filter(organisation=org_a, state="synced")
    bill_links = links.filter(object_type__in=("bill", "vendor_credit"))
    single = sum(1 for r in bill_links.only("request_id") if ":b" not in r.request_id)
    whole_min = (done - started).total_seconds() / 60
    bills_min = (done - setup_done).total_seconds() / 60
    print(
        f"\nLANES {lanes}: whole first sync {links.count()} objects in {whole_min * 60:.0f} s = "
        f"{links.count() / whole_min:.0f}/min; bills step {bill_links.count()} in {bills_min * 60:.0f} s = "
        f"{bill_links.count() / bills_min:.0f}/min ({single} single); 429s {stats['throttled']}; "
        f"metered {stats['metered']} ({stats['metered'] / max(bill_links.count(), 1):.3f} per bill); "
        f"batches {stats['by_endpoint'].get('write:batch', 0)}"
    )
    assert stats["throttled"] == 0
