"""Many tenants on one worker: a due-time scheduler over a small thread pool, one slow tenant.

Each organisation is due every ``interval`` seconds; the worker starts due runs on ``threads``
threads (one active run per organisation, as SyncRun's constraint enforces). One tenant's
Procurify and QBO answers are slowed by ``slow_ms`` per request. A schedule is met when each run
starts within one interval of its due time.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from django.db import connections

from bench.tenants import Tenant
from connector.clients import procurify_client_for, qbo_client_for
from connector.http import build_client
from connector.models import SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline


@dataclass
class TenantStats:
    name: str
    slow: bool
    runs: int = 0
    failed: int = 0
    lags: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)


class SlowTransport(httpx.HTTPTransport):
    """A tenant whose systems answer slowly (the sandbox's latency knob is global)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.delay_s)
        return super().handle_request(request)


def run_many(
    tenants: list[Tenant], *, duration_s: float, interval_s: float, threads: int, slow_ms: float
) -> list[TenantStats]:
    stats = [TenantStats(t.organisation.name, slow=(i == 0 and slow_ms > 0)) for i, t in enumerate(tenants)]
    due = [time.monotonic()] * len(tenants)
    busy: dict[int, Future[None]] = {}
    end = time.monotonic() + duration_s
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-worker") as pool:
        while time.monotonic() < end:
            now = time.monotonic()
            for i, tenant in enumerate(tenants):
                if now >= due[i] and (i not in busy or busy[i].done()):
                    stats[i].lags.append(now - due[i])
                    due[i] += interval_s * (1 + int((now - due[i]) // interval_s))
                    delay = slow_ms / 1000 if stats[i].slow else 0.0
                    busy[i] = pool.submit(_one_run, tenant, stats[i], delay)
            time.sleep(0.05)
    return stats


def _one_run(tenant: Tenant, stats: TenantStats, delay_s: float) -> None:
    started = time.monotonic()
    http = build_client(transport=SlowTransport(delay_s)) if delay_s else None
    try:
        queued = runs.enqueue_run(tenant.organisation, SyncRun.Trigger.SCHEDULE)
        if queued is None:
            return
        procurify = procurify_client_for(tenant.organisation, http=http)
        qbo = qbo_client_for(tenant.organisation, http=http)
        run = run_pipeline(queued.pk, procurify=procurify, qbo=qbo)
        with _lock:
            stats.runs += 1
            stats.failed += run.status != SyncRun.Status.SUCCEEDED
            stats.durations.append(time.monotonic() - started)
    finally:
        if http is not None:
            http.close()
        connections.close_all()  # a worker thread's own connection


_lock = threading.Lock()
