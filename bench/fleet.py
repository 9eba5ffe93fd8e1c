"""Many tenants on real Celery workers over Redis (issue 16): small tenants' freshness during a backfill.

The sandbox serves ``small`` companies of ``small_bills`` bills plus one of ``big_bills`` over real HTTP
with QuickBooks' limits enforced. Every organisation is connected like a customer's, scheduled every
``interval`` seconds and started (the "Start syncing" decision). ``workers`` real ``celery -A config
worker`` processes take the product's queues; the bench sends the real ``dispatch_due_syncs`` task
every ``interval`` seconds, as the beat does. The big organisation starts first, so the small ones are
measured while it backfills. While the workers run, bills are approved in the small companies'
Procurify sites (a draft or confirmed bill becomes approved); each one's latency is the time from
that approval to its link row saying it is in QuickBooks (ExternalRecord.last_synced_at). Request
counts, per-company peaks per minute and 429s come from the sandbox's request log.
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from bench.sandbox_proc import SandboxProcess
from bench.tenants import Tenant, connect_tenants, pointed_at, sandbox_settings
from bench.workers import Workers
from config.celery import app as celery_app
from connector.models import ExternalRecord, HeldRecord, SyncRun
from connector.sync.records import BILL
from connector.tasks import dispatch_due_syncs
from tenants.models import Organisation, SyncSchedule

DRAFT, CONFIRMED, APPROVED = 0, 1, 2
QBO_PER_MINUTE, QBO_BATCHES_PER_MINUTE = 500, 40  # docs/benchmarks.md "The ceiling, defined"
POLL_SECONDS = 2.0
BIG_START_TIMEOUT = 120.0


@dataclass
class FleetOptions:
    small: int = 200
    small_bills: int = 50
    big_bills: int = 10_000
    workers: int = 4
    concurrency: int = 1
    interval_s: float = 60.0
    latency_ms: float = 100.0
    approvals_per_minute: float = 30.0
    steady_s: float = 300.0  # approvals after the big tenant's backfill finished
    max_s: float = 900.0  # the whole run stops here, finished or not


@dataclass
class Approval:
    tenant: Tenant
    uuid: str
    at: float
    during_backfill: bool
    landed: float | None = None
    held: bool = False


@dataclass
class FleetResult:
    options: FleetOptions
    started: float
    ended: float
    big_done: float | None
    small_first_sync: list[float]
    approvals: list[Approval]
    log: dict[str, list[list[Any]]]
    small_realms: list[str]
    big_realm: str
    runs: dict[str, int] = field(default_factory=dict)


def run_fleet(o: FleetOptions) -> FleetResult:
    sandbox = SandboxProcess.start(
        bills=o.small_bills, vendors=max(5, o.small_bills // 20), pos=max(3, o.small_bills // 10),
        tenants=o.small, big_bills=o.big_bills,
    )  # fmt: skip
    try:
        sandbox.faults(latency_ms=o.latency_ms, throttle=True)
        with pointed_at(sandbox):
            tenants = connect_tenants(sandbox, "fleet")
        small, big = tenants[:-1], tenants[-1]
        drafts = {t.domain: _drafts(sandbox, t.domain) for t in small}
        _schedule(tenants, o.interval_s)
        env = {
            **sandbox_settings(sandbox),
            "QBO_GOVERNOR_PREFIX": f"bench-fleet:{time.time_ns()}",  # no budget left over from a past run
            "SYNC_SLICE_SECONDS": str(settings.SYNC_SLICE_SECONDS),
        }
        _purge()
        log_dir = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
        with Workers(o.workers, o.concurrency, env, log_dir) as workers:
            _big_first(big, small, workers)
            started = time.time()
            approvals, big_done = _drive(o, sandbox, small, big, drafts, workers, started)
            ended = time.time()
        _purge()  # nothing of this run waits in the queues for the next one
        return FleetResult(
            options=o,
            started=started,
            ended=ended,
            big_done=big_done,
            small_first_sync=_first_syncs(small, started),
            approvals=_landed(approvals),
            log=sandbox.request_log(),
            small_realms=[t.realm_id for t in small],
            big_realm=big.realm_id,
            runs=_run_counts(tenants),
        )
    finally:
        sandbox.stop()


def _drafts(sandbox: SandboxProcess, domain: str) -> list[str]:
    bills = sandbox.control.get(f"/_sandbox/procurify/{domain}/bills").raise_for_status().json()
    return [b["uuid"] for b in bills if b["status"] in (DRAFT, CONFIRMED)]  # not approved yet


def _schedule(tenants: Sequence[Tenant], interval_s: float) -> None:
    ours = [t.organisation.pk for t in tenants]
    SyncSchedule.objects.exclude(organisation__in=ours).update(enabled=False)  # earlier bench runs
    for pk in ours:
        SyncSchedule.objects.update_or_create(
            organisation_id=pk,
            defaults={
                "enabled": True,
                "mode": SyncSchedule.Mode.INTERVAL,
                "interval_minutes": max(1, round(interval_s / 60)),
                "next_run_at": None,
                "paused_reason": "",
            },
        )


def _start_syncing(tenants: Sequence[Tenant]) -> None:
    """The "Start syncing" decision (connector/sync/start_gate.py), taken for these organisations."""
    ours = [t.organisation.pk for t in tenants]
    Organisation.objects.filter(pk__in=ours).update(syncing_started_at=timezone.now())


def _big_first(big: Tenant, small: list[Tenant], workers: Workers) -> None:
    """The big organisation starts syncing first and its backfill is running before the small ones
    start, so every small tenant's numbers are taken while the big one backfills."""
    _start_syncing([big])
    dispatch_due_syncs.apply_async()
    deadline = time.monotonic() + BIG_START_TIMEOUT
    while not SyncRun.objects.filter(organisation=big.organisation, status=SyncRun.Status.RUNNING).exists():
        if time.monotonic() > deadline or workers.alive() < workers.count:
            raise RuntimeError(f"the big organisation's run did not start; logs in {workers.log_dir}")
        time.sleep(0.5)
    _start_syncing(small)


def _purge() -> None:
    celery_app.control.purge()


def _drive(
    o: FleetOptions,
    sandbox: SandboxProcess,
    small: list[Tenant],
    big: Tenant,
    drafts: dict[str, list[str]],
    workers: Workers,
    started: float,
) -> tuple[list[Approval], float | None]:
    rng = random.Random(16)
    approvals: list[Approval] = []
    big_done: float | None = None
    next_dispatch = next_approval = started
    grace = o.interval_s + 60  # the last approvals get one schedule interval + 60 s to land
    stop_approving = started + o.max_s - grace
    while True:
        now = time.time()
        if workers.alive() < o.workers:
            raise RuntimeError(f"a worker died; logs in {workers.log_dir}")
        if now >= next_dispatch:
            dispatch_due_syncs.apply_async()
            next_dispatch += o.interval_s
        if big_done is None and _backfilled(big, started):
            big_done = time.time()
            stop_approving = min(stop_approving, big_done + o.steady_s)
        if now >= next_approval and now < stop_approving:
            approval = _approve(sandbox, small, drafts, rng, big_done is None)
            if approval is not None:
                approvals.append(approval)
            next_approval += 60.0 / o.approvals_per_minute
        if now >= stop_approving and (_all_landed(approvals) or now >= stop_approving + grace):
            return approvals, big_done
        time.sleep(min(POLL_SECONDS, max(0.05, min(next_dispatch, next_approval) - time.time())))


def _approve(
    sandbox: SandboxProcess,
    small: list[Tenant],
    drafts: dict[str, list[str]],
    rng: random.Random,
    during_backfill: bool,
) -> Approval | None:
    candidates = [t for t in small if drafts[t.domain]]
    if not candidates:
        return None
    tenant = rng.choice(candidates)
    uuid = drafts[tenant.domain].pop()
    sandbox.edit_bill(tenant.domain, uuid, status=APPROVED)
    return Approval(tenant, uuid, time.time(), during_backfill)


def _backfilled(big: Tenant, started: float) -> bool:
    """The big organisation's first sync is complete: a finished run that did not continue in a slice."""
    since = datetime.fromtimestamp(started, tz=UTC)
    for counts in SyncRun.objects.filter(
        organisation=big.organisation, status=SyncRun.Status.SUCCEEDED, finished_at__gte=since
    ).values_list("counts", flat=True):
        if not (counts or {}).get("continues"):
            return True
    return False


def _all_landed(approvals: list[Approval]) -> bool:
    return all(a.landed is not None or a.held for a in _landed(approvals))


def _landed(approvals: list[Approval]) -> list[Approval]:
    for a in approvals:
        if a.landed is not None or a.held:
            continue
        row = (
            ExternalRecord.objects.filter(
                organisation=a.tenant.organisation, object_type=BILL, procurify_id=a.uuid
            )
            .exclude(qbo_id="")
            .values_list("last_synced_at", flat=True)
            .first()
        )
        if row is not None:
            a.landed = row.timestamp()
        else:
            a.held = HeldRecord.objects.filter(
                organisation=a.tenant.organisation, procurify_id=a.uuid, state=HeldRecord.State.HELD
            ).exists()
    return approvals


def _first_syncs(small: list[Tenant], started: float) -> list[float]:
    """Per small organisation: seconds from the start to its first finished, uncontinued run."""
    since = datetime.fromtimestamp(started, tz=UTC)
    out = []
    for tenant in small:
        for finished, counts in (
            SyncRun.objects.filter(
                organisation=tenant.organisation, status=SyncRun.Status.SUCCEEDED, finished_at__gte=since
            )
            .order_by("finished_at")
            .values_list("finished_at", "counts")
        ):
            if finished is not None and not (counts or {}).get("continues"):
                out.append(finished.timestamp() - started)
                break
    return out


def _run_counts(tenants: list[Tenant]) -> dict[str, int]:
    runs = SyncRun.objects.filter(organisation__in=[t.organisation for t in tenants])
    return {status: runs.filter(status=status).count() for status in SyncRun.Status.values}


# ---- the printed report --------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def peak_per_minute(times: Sequence[float]) -> int:
    """The most requests in any 60 s window."""
    ordered, best, low = sorted(times), 0, 0
    for high, t in enumerate(ordered):
        while t - ordered[low] >= 60.0:
            low += 1
        best = max(best, high - low + 1)
    return best


def _company(log: list[list[Any]]) -> tuple[int, int, int]:
    requests = peak_per_minute([e[0] for e in log])
    batches = peak_per_minute([e[0] for e in log if e[1]])
    throttled = sum(1 for e in log if e[3] == 429)
    return requests, batches, throttled


def _latency_line(label: str, approvals: list[Approval]) -> str:
    """Percentiles over every approved bill not held; one still missing at the end counts as later
    than any that landed (shown as ">end"), so a slow run cannot look fast by leaving bills behind."""
    waits = [a.landed - a.at for a in approvals if a.landed is not None]
    held = sum(a.held for a in approvals)
    missing = len(approvals) - len(waits) - held
    censored = waits + [math.inf] * missing
    cells = "".join(_seconds(percentile(censored, q)) for q in (0.5, 0.95, 1.0))
    return f"{label:<44}{len(approvals):>6}{len(waits):>8}{held:>6}{missing:>9}{cells}"


def _seconds(value: float) -> str:
    return f"{'>end':>8}" if math.isinf(value) else f"{value:>8.0f}"


def report(r: FleetResult) -> str:
    o = r.options
    small_logs = [_company(r.log.get(realm, [])) for realm in r.small_realms]
    big_req, big_batches, big_429 = _company(r.log.get(r.big_realm, []))
    target_small = o.interval_s + 60
    backfill = [a for a in r.approvals if a.during_backfill]
    steady = [a for a in r.approvals if not a.during_backfill]
    firsts = r.small_first_sync
    lines = [
        f"many tenants on Celery: {o.small} x {o.small_bills} bills + 1 x {o.big_bills}; {o.workers} worker "
        f"processes x -c {o.concurrency} (queues interactive,celery); dispatch_due_syncs every "
        f"{o.interval_s:.0f} s; latency {o.latency_ms:.0f} ms; QBO limits enforced",
        f"  wall                                  {r.ended - r.started:.0f} s",
        "  big tenant backfill                   "
        + (f"{r.big_done - r.started:.0f} s" if r.big_done else "not finished in the run"),
        f"  small tenants' first sync (start -> finished, s)  n={len(firsts)} of {o.small}  "
        f"p50 {percentile(firsts, 0.5):.0f}  p95 {percentile(firsts, 0.95):.0f}  "
        f"max {percentile(firsts, 1.0):.0f}",
        f"{'approval -> in QuickBooks, s':<44}{'bills':>6}{'landed':>8}{'held':>6}{'missing':>9}"
        f"{'p50':>8}{'p95':>8}{'max':>8}",
        _latency_line("  small tenants, while the big one backfills", backfill),
        _latency_line("  steady state (after the backfill)", steady),
        f"  per-company peak requests/min         small max {max((s[0] for s in small_logs), default=0)}, "
        f"big {big_req} (limit {QBO_PER_MINUTE})",
        f"  per-company peak batches/min          small max {max((s[1] for s in small_logs), default=0)}, "
        f"big {big_batches} (limit {QBO_BATCHES_PER_MINUTE})",
        f"  429s                                  {sum(s[2] for s in small_logs) + big_429}",
        f"  runs by status                        {r.runs}",
        f"  targets: small p95 <= {target_small:.0f} s while backfilling; approval p95 <= 120 s at a "
        "one-minute interval",
    ]
    return "\n".join(lines) + "\n"
