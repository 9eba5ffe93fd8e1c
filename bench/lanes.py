"""Lanes mode: the items a minute the write lanes reach when only QuickBooks' limits and its round trip
count (python -m bench --mode lanes; figures in docs/benchmarks.md).

One organisation's whole first sync (vendors, purchase orders, bills) per lanes setting, on the in-process
sandbox with QuickBooks' limits enforced, through the real engine and QBOClient. Time is the sandbox's
clock (bench/lane_clients.py): CPU and Procurify reads are free, so the figures are the lanes' ceiling,
not this machine's. Requests on their way at once (the batch, the singles and lookups on their background
threads, connector/sync/lanes.py) each advance that one clock, so overlapping time is counted once per
request: the simulated rate is a floor, and the real-time modes are the measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.test import override_settings
from django.utils import timezone

from bench.lane_clients import clients
from bench.tenants import SETUP_STEPS, bench_user
from connector.models import ExternalRecord, SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline
from sandbox import Sandbox
from tenants.models import Membership, Organisation, Role

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # a fixed start: the seeded data is the same every run
COMBINED_CEILING = 1_660  # items/min: 40 batches x 30 items + (500 - 40) single requests (issue 16)
BILL_TYPES = ("bill", "vendor_credit")


@dataclass
class LanesResult:
    lanes: str
    objects: int  # synced links after the whole first sync
    whole_s: float  # simulated seconds, token check to the last bill
    bill_items: int
    bills_s: float
    single: int  # bills that went as single requests, not in a batch
    throttled: int  # 429s the sandbox answered
    metered: int
    batches: int

    @property
    def whole_per_min(self) -> float:
        return self.objects / self.whole_s * 60 if self.whole_s else 0.0

    @property
    def bills_per_min(self) -> float:
        return self.bill_items / self.bills_s * 60 if self.bills_s else 0.0


def lanes_pass(
    lanes: str, bills: int, vendors: int, pos: int, latency_s: float, throttle: bool
) -> LanesResult:
    sb = Sandbox.create("large", now=NOW, n_bills=bills, n_vendors=vendors, n_pos=pos)
    sb.faults.update(throttle=throttle)  # QuickBooks' limits: 500 a minute, 40 batches a minute, 10 in flight
    realm_id = sb.realm_ids[0]
    procurify, qbo = clients(sb, sb.domains[0], realm_id, latency_s)
    organisation = _organisation(lanes)

    def run(steps: tuple[str, ...]) -> SyncRun:
        queued = runs.enqueue_run(organisation, SyncRun.Trigger.COMMAND)
        if queued is None:
            raise RuntimeError(f"{organisation} already has a run queued or running")
        return run_pipeline(queued.pk, procurify=procurify, qbo=qbo, clock=sb.clock.now, steps=steps)

    with override_settings(QBO_WRITE_LANES=lanes):
        started = sb.clock.now()
        setup = run(SETUP_STEPS)
        setup_done = sb.clock.now()
        bills_run = run(("bills",))
        done = sb.clock.now()
    for step in (setup, bills_run):
        if step.status != SyncRun.Status.SUCCEEDED:
            raise RuntimeError(f"lanes {lanes}: the run ended {step.status}: {step.error}")
    stats = sb.qbo.stats(realm_id)
    links = ExternalRecord.objects.filter(organisation=organisation, state="synced")
    bill_links = links.filter(object_type__in=BILL_TYPES)
    return LanesResult(
        lanes=lanes,
        objects=links.count(),
        whole_s=(done - started).total_seconds(),
        bill_items=bill_links.count(),
        bills_s=(done - setup_done).total_seconds(),
        single=_singles(bill_links),
        throttled=int(stats["throttled"]),
        metered=int(stats["metered"]),
        batches=int(stats["by_endpoint"].get("write:batch", 0)),
    )


def _singles(bill_links: QuerySet[ExternalRecord]) -> int:
    # A batched write's request id carries its batch item (":b"); a single request's does not.
    return sum(1 for link in bill_links.only("request_id") if ":b" not in link.request_id)


def _organisation(lanes: str) -> Organisation:
    """A fresh organisation per pass (a new slug per bench run: no state carried over)."""
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    organisation = Organisation.objects.create(name=f"Bench lanes {lanes}", slug=f"bench-lanes-{stamp}"[:60])
    Membership.objects.create(organisation=organisation, user=bench_user(), role=Role.OWNER)
    return organisation


def title(bills: int, vendors: int, pos: int, latency_ms: float, throttle: bool) -> str:
    limits = "QuickBooks' limits enforced" if throttle else "no limits enforced"
    return (
        f"lanes: whole first sync of {vendors} vendors, {pos} POs, {bills} bills; simulated time "
        f"({latency_ms:.0f} ms a QuickBooks request, CPU and Procurify reads free); {limits}"
    )


# (name, width): every value is one word, so a line splits back into its columns on whitespace.
COLUMNS = (
    ("lanes", 14), ("objects", 9), ("sim s", 7), ("items/min", 11), ("of 1660", 9), ("bill items", 12),
    ("bills s", 9), ("bills/min", 11), ("singles", 9), ("429s", 6), ("metered/bill", 14), ("batches", 9),
)  # fmt: skip


def _row(values: tuple[object, ...]) -> str:
    """The first column left-aligned, the figures right-aligned, each in its column's width."""
    cells = (
        f"{v:<{w}}" if i == 0 else f"{v:>{w}}"
        for i, (v, (_, w)) in enumerate(zip(values, COLUMNS, strict=True))
    )
    return "".join(cells)


HEADER = _row(tuple(name for name, _ in COLUMNS))


def line(r: LanesResult) -> str:
    of_ceiling = r.whole_per_min / COMBINED_CEILING
    per_bill = r.metered / max(r.bill_items, 1)
    return _row(
        (
            r.lanes, r.objects, f"{r.whole_s:.0f}", f"{r.whole_per_min:,.0f}", f"{of_ceiling:.0%}",
            r.bill_items, f"{r.bills_s:.0f}", f"{r.bills_per_min:,.0f}", r.single, r.throttled,
            f"{per_bill:.3f}", r.batches,
        )
    )  # fmt: skip
