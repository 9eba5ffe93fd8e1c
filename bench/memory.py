"""Memory of one bills pass at two volumes (issue 7: flat from 10,000 to 100,000 bills).

The pass is the real pipeline's bills step through the real clients over HTTP (list paging, the
read-ahead window of detail reads, holds, the running-max cursor, batched writes to QuickBooks),
after an unmeasured setup run (reference data, vendors, purchase orders). Nothing in the engine is
replaced. What makes 100,000 bills affordable on 2 cores is the workload, handed to the engine
through run_pipeline's ``procurify`` parameter: ``EveryNthApproved`` is the real Procurify client
whose bill list shows only every ``read_every``-th approved bill as approved and the others as
drafts, which the engine skips from the list row (no detail read, no write). Every listed row
still flows through the stream; the sampled bills are read, transformed and written. The QuickBooks
client is unpaced (throttle off, latency 0): this measures memory, not QuickBooks' limits.
"""

from __future__ import annotations

import gc
import itertools
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from bench.baseline import UNPACED
from bench.metrics import RssSampler
from bench.sandbox_proc import SandboxProcess
from bench.tenants import SETUP_STEPS, Tenant, connect_tenants, pointed_at
from connector.clients import procurify_client_for, qbo_client_for
from connector.models import SyncRun
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import BillSummary
from connector.procurify.streams import Page
from connector.sync import runs
from connector.sync.engine import run_pipeline
from connector.sync.transform import SYNC_STATUSES

DRAFT = 0


@dataclass
class MemoryPass:
    bills: int
    read: int
    wall_s: float
    tracemalloc_peak_mb: float
    rss_start_mb: float
    rss_peak_mb: float


class EveryNthApproved:
    """The real Procurify client; its bill pages show all but every ``every``-th approved bill as a
    draft (a workload choice, see the module docstring). Everything else is the client's own."""

    def __init__(self, client: ProcurifyClient, every: int) -> None:
        self._client = client
        self._every = max(1, every)
        self._seen = itertools.count()
        self.approved = 0

    def bills_page(self, low: datetime, high: datetime, *, page: int = 1, by_id: bool = False) -> Page:
        listed = self._client.bills_page(low, high, page=page, by_id=by_id)
        return Page(rows=[self._shown(r) for r in listed.rows], has_next=listed.has_next, count=listed.count)

    def _shown(self, row: Any) -> Any:
        if not isinstance(row, BillSummary) or row.status not in SYNC_STATUSES:
            return row
        if next(self._seen) % self._every == 0:
            self.approved += 1
            return row
        return row.model_copy(update={"status": DRAFT})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def memory_pass(bills: int, vendors: int, pos: int, read_every: int = 1) -> MemoryPass:
    sandbox = SandboxProcess.start(bills=bills, vendors=vendors, pos=pos, tenants=1)
    try:
        sandbox.faults(latency_ms=0, throttle=False)
        with pointed_at(sandbox):
            tenant = connect_tenants(sandbox, "memory")[0]
            _run(tenant, procurify_client_for(tenant.organisation), SETUP_STEPS)
            procurify = EveryNthApproved(procurify_client_for(tenant.organisation), read_every)
            gc.collect()
            tracemalloc.start()
            started = time.perf_counter()
            with RssSampler() as rss:
                run = _run(tenant, cast(ProcurifyClient, procurify), ("bills",))
            wall = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        sandbox.stop()
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"memory pass failed: {run.error}")
    return MemoryPass(bills, procurify.approved, wall, peak / 2**20, rss.start, rss.peak)


def _run(tenant: Tenant, procurify: ProcurifyClient, steps: tuple[str, ...]) -> SyncRun:
    queued = runs.enqueue_run(tenant.organisation, SyncRun.Trigger.COMMAND)
    if queued is None:
        raise RuntimeError(f"{tenant.organisation} already has a run queued or running")
    qbo = qbo_client_for(tenant.organisation)
    qbo.governor = UNPACED  # the sandbox enforces no limits here; memory is what is measured
    return run_pipeline(queued.pk, procurify=procurify, qbo=qbo, steps=steps)


HEADER = (
    f"{'bills':>8}{'approved':>10}{'wall s':>9}{'tracemalloc peak MB':>21}"
    f"{'RSS start MB':>14}{'RSS peak MB':>13}{'RSS growth MB':>15}"
)


def title(read_every: int) -> str:
    return (
        "memory of one bills pass (real pipeline and clients over HTTP; one in "
        f"{read_every} approved bills listed as approved, read and written; latency 0, throttle off)"
    )


def line(p: MemoryPass) -> str:
    return (
        f"{p.bills:>8}{p.read:>10}{p.wall_s:>9.1f}{p.tracemalloc_peak_mb:>21.2f}"
        f"{p.rss_start_mb:>14.0f}{p.rss_peak_mb:>13.0f}{p.rss_peak_mb - p.rss_start_mb:>15.1f}"
    )
