"""What one measured phase cost: wall and CPU time, database queries, peak memory, API requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

from bench.sandbox_proc import SandboxProcess

RSS_SAMPLE_SECONDS = 0.05


@dataclass
class Requests:
    """API requests one phase made, from the sandbox's own counters (deltas over the phase)."""

    qbo_reads: int = 0
    qbo_writes: int = 0
    qbo_batches: int = 0
    qbo_throttled: int = 0
    procurify: int = 0
    # QuickBooks API requests the sandbox received (bench/sandbox_server.py's log): a batch is one.
    qbo_http: int = 0
    batch_items: int = 0
    # Successful calls Intuit meters (reads, queries, CDC, batches), by the sandbox's count.
    qbo_metered: int = 0

    @property
    def qbo_total(self) -> int:
        """HTTP requests QBO counts toward 500/min: reads, single writes and batches (once each)."""
        return self.qbo_http

    @property
    def qbo_objects_written(self) -> int:
        """Objects QBO was asked to write (single writes and batch items); a batch envelope is not one."""
        return self.qbo_writes - self.qbo_batches


@dataclass
class Phase:
    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    queries: int = 0
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    requests: Requests = field(default_factory=Requests)
    bills: int = 0  # bills synced (created or updated) in the phase
    hold_retries: int = 0  # held bills retried (each is one refused QBO create)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_start_mb


class QueryCounter:
    """Counts SQL statements on every connection, including ones worker threads open mid-phase."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self._wrapped: set[int] = set()

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        with self._lock:
            self.count += 1
        return execute(sql, params, many, context)

    def attach(self, connection: Any) -> None:
        if id(connection) not in self._wrapped:
            self._wrapped.add(id(connection))
            connection.execute_wrappers.append(self)

    def detach_all(self) -> None:
        for alias in connections:
            wrappers = connections[alias].execute_wrappers
            if self in wrappers:
                wrappers.remove(self)


class RssSampler:
    """Peak resident memory within a phase; ru_maxrss cannot be reset between phases."""

    def __init__(self) -> None:
        self.start = self.peak = current_rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss_mb())

    def _run(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            self.peak = max(self.peak, current_rss_mb())


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def measure(name: str, sandbox: SandboxProcess, realms: list[str], domains: list[str]) -> Iterator[Phase]:
    """Measure the block; API counts are the sandbox's deltas for the given realms and domains."""
    phase = Phase(name)
    counter = QueryCounter()
    counter.attach(connections["default"])

    def on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
        counter.attach(connection)

    connection_created.connect(on_connect, weak=False)
    before = request_counts(sandbox, realms, domains)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        with RssSampler() as rss:
            yield phase
    finally:
        phase.wall_s = time.perf_counter() - wall
        phase.cpu_s = time.process_time() - cpu
        connection_created.disconnect(on_connect)
        counter.detach_all()
        phase.queries = counter.count
        phase.rss_start_mb, phase.rss_peak_mb = rss.start, rss.peak
        phase.requests = _delta(request_counts(sandbox, realms, domains), before)


def request_counts(sandbox: SandboxProcess, realms: list[str], domains: list[str]) -> Requests:
    stats = sandbox.stats()
    log = sandbox.request_log()
    out = Requests()
    for realm in realms:
        qbo = stats["qbo"][realm]
        out.qbo_reads += int(qbo["reads"])
        out.qbo_writes += int(qbo["writes"])
        out.qbo_throttled += int(qbo["throttled"])
        out.qbo_metered += int(qbo.get("metered", 0))
        out.qbo_batches += sum(v for k, v in qbo["by_endpoint"].items() if k.endswith(":batch"))
        out.qbo_http += len(log.get(realm, []))
        out.batch_items += sum(entry[2] for entry in log.get(realm, []))
    for domain in domains:
        out.procurify += int(stats["procurify"][domain]["reads"])
    return out


def _delta(after: Requests, before: Requests) -> Requests:
    return Requests(
        qbo_reads=after.qbo_reads - before.qbo_reads,
        qbo_writes=after.qbo_writes - before.qbo_writes,
        qbo_batches=after.qbo_batches - before.qbo_batches,
        qbo_throttled=after.qbo_throttled - before.qbo_throttled,
        procurify=after.procurify - before.procurify,
        qbo_http=after.qbo_http - before.qbo_http,
        batch_items=after.batch_items - before.batch_items,
        qbo_metered=after.qbo_metered - before.qbo_metered,
    )
