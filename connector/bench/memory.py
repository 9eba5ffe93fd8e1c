"""Memory of one bills pass at two volumes (issue 7: flat from 10,000 to 100,000 bills).

The pass is engine.sync_bills as production runs it (list paging, the read-ahead window of
detail reads on 4 threads, hold retries, the running-max cursor, the open batch), with the
per-bill work replaced by a stub that takes the read detail and drops it, and with only every
``read_every``-th approved bill's detail read. Why: a full write pass of 100,000 bills takes most
of an hour on 2 cores, and even reading all ~71,000 approved details under tracemalloc took
~55 minutes against the sandbox; the per-bill work keeps no state across bills except the batch
(bounded at 30). Every listed row still flows through the stream. Latency 0, throttle off.
"""

from __future__ import annotations

import gc
import itertools
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from django.utils import timezone

from connector.bench.metrics import RssSampler
from connector.bench.sandbox_proc import SandboxProcess
from connector.bench.tenants import connect_tenants, pointed_at, sync_once
from connector.models import SyncRun
from connector.procurify.schemas import BillSummary
from connector.procurify.streams import Page
from connector.sync import engine, runs
from connector.sync.records import BILL, Context
from tenants.models import Organisation

READ = "read"


@dataclass
class MemoryPass:
    bills: int
    read: int
    wall_s: float
    tracemalloc_peak_mb: float
    rss_start_mb: float
    rss_peak_mb: float


def _read_and_drop(ctx: Context, uuid: str, *_sink: object) -> str:
    ctx.read_bill(uuid)  # the real read-ahead future: waits for the HTTP read, then drops it
    ctx.count(BILL, READ)
    return READ


def _sampled(every: int) -> Callable[[Context, str, int], bool]:
    real = engine._worth_reading
    seen = itertools.count()

    def worth_reading(ctx: Context, uuid: str, status: int) -> bool:
        return real(ctx, uuid, status) and next(seen) % every == 0

    return worth_reading


def memory_pass(bills: int, vendors: int, pos: int, read_every: int = 1) -> MemoryPass:
    sandbox = SandboxProcess.start(bills=bills, vendors=vendors, pos=pos, tenants=1)
    try:
        sandbox.faults(latency_ms=0, throttle=False)
        with pointed_at(sandbox):
            tenant = connect_tenants(sandbox, "memory")[0]
            gc.collect()
            tracemalloc.start()
            started = time.perf_counter()
            with (
                RssSampler() as rss,
                mock.patch.object(engine, "process_bill", _read_and_drop),
                mock.patch.object(engine, "_worth_reading", _sampled(read_every)),
            ):
                run = sync_once(tenant, steps=("bills",))
            wall = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        sandbox.stop()
    read = int(((run.counts.get("by_type") or {}).get(BILL) or {}).get(READ, 0))
    if run.status != "succeeded":
        raise RuntimeError(f"memory pass failed: {run.error}")
    return MemoryPass(bills, read, wall, peak / 2**20, rss.start, rss.peak)


HEADER = (
    f"{'bills':>8}{'details read':>14}{'wall s':>9}{'tracemalloc peak MB':>21}"
    f"{'RSS start MB':>14}{'RSS peak MB':>13}{'RSS growth MB':>15}"
)


def title(read_every: int) -> str:
    return (
        "memory of one bills pass (stream real, per-bill work stubbed, every "
        f"{read_every}th approved detail read; latency 0, throttle off)"
    )


SYNTHETIC_TITLE = (
    "memory of one bills pass (engine stream fed by SyntheticProcurify, 70% approved, every detail "
    "read, per-bill work stubbed)"
)


def line(p: MemoryPass) -> str:
    return (
        f"{p.bills:>8}{p.read:>14}{p.wall_s:>9.1f}{p.tracemalloc_peak_mb:>21.2f}"
        f"{p.rss_start_mb:>14.0f}{p.rss_peak_mb:>13.0f}{p.rss_peak_mb - p.rss_start_mb:>15.1f}"
    )


class SyntheticProcurify:
    """A Procurify client that invents ``bills`` list rows on the fly (70 % approved) and answers
    detail reads at once. Why: the sandbox's bill list is O(n) per page, so 100,000 bills through
    HTTP take over 30 minutes of the fake's CPU; this feeds the same engine stream in seconds."""

    PAGE = 100
    STEP = timedelta(milliseconds=1)  # bill n was last modified at BASE + n ms: a strict order

    def __init__(self, bills: int) -> None:
        self.bills = bills
        self.base = datetime(2026, 1, 1, tzinfo=UTC)

    def iter_bills(self, start: datetime, end: datetime) -> Iterator[BillSummary]:
        for n in range(self.bills):
            yield self._row(n)

    def bills_page(self, low: datetime, high: datetime, *, page: int = 1, by_id: bool = False) -> Page:
        """The keyset poll's one-page read, computed rather than stored (stamps and ids share an order)."""
        first = max(0, -(-(low - self.base) // self.STEP))
        last = min(self.bills - 1, (high - self.base) // self.STEP)
        start = first + (page - 1) * self.PAGE
        stop = min(last + 1, start + self.PAGE)
        rows = [self._row(n) for n in range(start, stop)]
        return Page(rows=rows, has_next=stop <= last, count=max(0, last - first + 1))

    def _row(self, n: int) -> BillSummary:
        status = 2 if n % 10 < 7 else 0
        stamp = self.base + n * self.STEP
        return BillSummary.model_validate(
            {"id": n + 1, "uuid": f"{n:032x}", "status": status, "last_modified_datetime": stamp}
        )

    def get_bill(self, uuid: str) -> str:
        return uuid


def synthetic_pass(bills: int) -> MemoryPass:
    """The same measured bills step as memory_pass, fed by SyntheticProcurify (no sandbox)."""
    organisation = Organisation.objects.create(
        name=f"Bench memory {bills}", slug=f"bench-memory-{timezone.now():%Y%m%d%H%M%S%f}"[:60]
    )
    queued = runs.enqueue_run(organisation, SyncRun.Trigger.COMMAND)
    assert queued is not None
    procurify: Any = SyntheticProcurify(bills)
    qbo: Any = None  # the stubbed per-bill work never writes
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    with (
        RssSampler() as rss,
        mock.patch.object(engine, "process_bill", _read_and_drop),
    ):
        run = engine.run_pipeline(queued.pk, procurify=procurify, qbo=qbo, steps=("bills",))
    wall = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if run.status != "succeeded":
        raise RuntimeError(f"memory pass failed: {run.error}")
    read = int(((run.counts.get("by_type") or {}).get(BILL) or {}).get(READ, 0))
    return MemoryPass(bills, read, wall, peak / 2**20, rss.start, rss.peak)
