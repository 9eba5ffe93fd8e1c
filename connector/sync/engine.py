"""The pipeline of one organisation: token check → reference/mappings → vendors → purchase orders → bills.

Clients are parameters (the Celery tasks build them with connector.clients), so tests and the
management command run the same code against the sandbox. Purchase orders run before bills so a
bill can link to its PO in the same run (otherwise every PO bill would be updated a run later).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import datetime

from django.db import connections
from django.utils import timezone

from connector.errors import ConnectorError, Permanent, QBOFault
from connector.models import ExternalRecord, HeldRecord, SyncCursor, SyncRun
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import Bill, BillSummary, MalformedRecord
from connector.qbo.client import QBOClient
from connector.sync import cursors, holds, runs
from connector.sync.audit import Audit
from connector.sync.records import (
    BILL,
    PURCHASE_ORDER,
    VENDOR,
    Context,
    bill_batch,
    hold_malformed,
    hold_record,
    process_bill,
    process_purchase_order,
)
from connector.sync.reference import load_mappings, refresh_reference
from connector.sync.transform import SYNC_STATUSES, VOID_STATUSES, Held, Plan, vendor_payload
from connector.sync.writers import Writer
from mappings import services
from mappings.models import Source, VendorMapping
from tenants.models import Organisation

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
STEPS = ("token_check", "reference", "vendors", "purchase_orders", "bills")
# Bill details are read this many rows ahead, on this many threads, while the main thread writes
# to QBO: Procurify publishes no rate limits (procurify.md), and with the reads off the critical
# path a run is paced by QBO alone. Small bounds: memory stays flat and a failed run wastes little.
PREFETCH_AHEAD = 40  # more than a batch: reads go on while a batch POST waits for its slot
PREFETCH_THREADS = 4
BEAT_SECONDS = 5.0


class CursorConflict(Permanent):
    """Someone else moved the cursor; the one-active-run constraint should make this impossible."""


def run_pipeline(
    run_id: int,
    *,
    procurify: ProcurifyClient,
    qbo: QBOClient,
    clock: Clock = timezone.now,
    steps: Iterable[str] = STEPS,
) -> SyncRun:
    """Claim a queued run and run its steps in order; a failing step ends this organisation's run.

    Args:
        run_id: a queued SyncRun. A run someone else claimed is returned untouched.
        procurify, qbo: clients for this organisation's Procurify site and QBO realm.
        clock: the run's clock; its value at the claim is the signpost no cursor may pass.
        steps: a subset of STEPS, in order (tests and the management command use subsets).

    Returns the SyncRun, finished (succeeded or failed) with counts and a plain error sentence.
    """
    run = runs.claim_run(run_id, clock())
    if run is None:
        return SyncRun.objects.get(pk=run_id)
    ctx = _context(run.organisation, run, procurify, qbo, clock, run.started_at or clock())
    try:
        for name in steps:
            runs.beat(run, clock(), step=name)
            STEP_FUNCTIONS[name](ctx)
    except ConnectorError as exc:
        ctx.audit.record("error", f"Step '{run.step or name}' failed: {exc.message}")
        runs.finish_run(run, SyncRun.Status.FAILED, counts=ctx.totals(), error=exc.message, now=clock())
        return run
    except Exception as exc:
        log.exception("sync run %s failed", run.pk)
        message = f"An unexpected error stopped the sync ({type(exc).__name__}). We have been notified."
        runs.finish_run(run, SyncRun.Status.FAILED, counts=ctx.totals(), error=message, now=clock())
        return run
    runs.finish_run(run, SyncRun.Status.SUCCEEDED, counts=ctx.totals(), error="", now=clock())
    return run


def _context(
    organisation: Organisation,
    run: SyncRun | None,
    procurify: ProcurifyClient,
    qbo: QBOClient,
    clock: Clock,
    signpost: datetime,
) -> Context:
    return Context(
        organisation=organisation,
        run=run,
        procurify=procurify,
        qbo=qbo,
        clock=clock,
        signpost=signpost,
        audit=Audit(organisation, run),
        writer=Writer(organisation, qbo),
        mappings=load_mappings(organisation),
    )


# ---- steps ---------------------------------------------------------------------------------------


def check_tokens(ctx: Context) -> None:
    """Fail fast (ReauthRequired) before touching data if either side refuses us."""
    info = ctx.qbo.company_info()
    ping = ctx.procurify.ping()
    ctx.audit.record(
        "read",
        "Both connections answered.",
        data={"qbo_company": info.CompanyName, "procurify_vendors": ping.vendor_count},
    )


def sync_reference(ctx: Context) -> None:
    counts = refresh_reference(ctx.organisation, ctx.procurify, ctx.qbo, ctx.audit, ctx.clock())
    ctx.counts.setdefault("reference", Counter()).update(counts)
    ctx.mappings = load_mappings(ctx.organisation)


def sync_vendors(ctx: Context) -> None:
    """Create the QBO vendors no one could match, when the organisation allows it."""
    if not ctx.organisation.create_missing_vendors:
        return
    held = set(
        HeldRecord.objects.filter(
            organisation=ctx.organisation, object_type=VENDOR, state=HeldRecord.State.HELD
        ).values_list("procurify_id", flat=True)
    )
    pending = VendorMapping.objects.filter(
        organisation=ctx.organisation, qbo_vendor_id="", procurify_active=True, source=Source.NONE
    )
    for mapping in pending:
        key = str(mapping.procurify_vendor_id)
        if key in held:
            continue  # waits for a person (e.g. a name clash); released holds come back here
        _create_vendor(ctx, mapping, key)
    ctx.mappings = load_mappings(ctx.organisation)


def _create_vendor(ctx: Context, mapping: VendorMapping, key: str) -> None:
    audit = ctx.audit.for_record(VENDOR, key)
    label = f"Vendor {mapping.procurify_name}"
    plan = Plan("Vendor", vendor_payload(mapping.procurify_name), label, key, "", None)
    try:
        result = ctx.writer.write(VENDOR, key, plan, audit)
    except Held as exc:
        exc.waiting_on_type, exc.waiting_on_key = "vendor_mapping", key
        ctx.count(VENDOR, hold_record(ctx, VENDOR, key, exc, label))
        return
    services.record_created_vendor(
        ctx.organisation, mapping.procurify_vendor_id, result.record.qbo_id, plan.payload["DisplayName"]
    )
    audit("mapping", f"Vendor '{mapping.procurify_name}' mapped to the QuickBooks vendor we created.")
    ctx.count(VENDOR, result.outcome)


def sync_purchase_orders(ctx: Context) -> None:
    cursor = _cursor(ctx.organisation, "purchase_orders")
    start = cursors.read_start(cursor.value, signpost=ctx.signpost)
    first_day, last_day = cursors.day_window(start, cursors.read_end(ctx.signpost))
    retry = _HoldRetries(ctx, PURCHASE_ORDER)
    newest: datetime | None = None
    try:
        for row in ctx.procurify.iter_purchase_orders(first_day, last_day):
            if isinstance(row, MalformedRecord):
                ctx.count(PURCHASE_ORDER, hold_malformed(ctx, PURCHASE_ORDER, row))
                continue
            retry.seen(row.uuid)
            process_purchase_order(ctx, row.uuid)
            newest = _later(newest, row.last_modified)
            _beat(ctx)
    except QBOFault as fault:
        ctx.audit.record("error", f"Purchase orders skipped: {fault.message}")
        return
    _save_cursor(cursor, cursors.advance(cursor.value, [newest], ctx.signpost))
    retry.run(process_purchase_order)
    ctx.mappings = load_mappings(ctx.organisation)  # bills link to the POs written just now


def sync_bills(ctx: Context) -> None:
    cursor = _cursor(ctx.organisation, "bills")
    start = cursors.read_start(cursor.value, signpost=ctx.signpost)
    # Memory stays flat with volume: a running max instead of every timestamp, the hold retries
    # picked before the stream (bounded by open holds, not by bills) instead of a set of every id
    # listed, a bounded read-ahead window and a batch of at most 30 writes.
    retry = _HoldRetries(ctx, BILL)
    newest: datetime | None = None
    rows = ctx.procurify.iter_bills(start, cursors.read_end(ctx.signpost))
    batch = ctx.batch = bill_batch(ctx)
    try:
        # closing(): a failing record stops the read-ahead threads now, not when the frame is collected.
        with closing(_read_ahead(ctx, rows)) as ahead:
            for row, detail in ahead:
                if isinstance(row, MalformedRecord):
                    ctx.count(BILL, hold_malformed(ctx, BILL, row))
                    continue
                retry.seen(row.uuid)
                if detail is not None:
                    ctx.prefetched[row.uuid] = detail
                    process_bill(ctx, row.uuid)
                newest = _later(newest, row.last_modified_datetime)
                _beat(ctx)
        batch.flush()  # a failed run drops what waits: nothing of it was committed or sent
    finally:
        ctx.batch = None
    # Every listed bill is now written or held (durably): the cursor may move.
    _save_cursor(cursor, cursors.advance(cursor.value, [newest], ctx.signpost))
    retry.run(process_bill)


def _beat(ctx: Context) -> None:
    # A heartbeat per record was one UPDATE per bill; the reaper's threshold is minutes, not seconds.
    now = time.monotonic()
    if ctx.run and now - ctx.last_beat >= BEAT_SECONDS:
        ctx.last_beat = now
        runs.beat(ctx.run, ctx.clock())


def _later(newest: datetime | None, stamp: datetime | None) -> datetime | None:
    return stamp if newest is None or (stamp is not None and stamp > newest) else newest


Listed = BillSummary | MalformedRecord


def _read_ahead(
    ctx: Context, rows: Iterable[Listed]
) -> Iterator[tuple[Listed, Future[Bill | MalformedRecord] | None]]:
    """Yield each listed row with its detail read already under way (None: not worth reading).

    Rows still come out in list order, so holds, audit and the cursor see the same sequence as a
    sequential run; a read's exception surfaces when its row is processed (Context.read_bill).
    """
    window: deque[tuple[Listed, Future[Bill | MalformedRecord] | None]] = deque()
    pool = ThreadPoolExecutor(max_workers=PREFETCH_THREADS, thread_name_prefix="bill-read")
    try:
        for row in rows:
            wanted = not isinstance(row, MalformedRecord) and _worth_reading(ctx, row.uuid, row.status)
            window.append((row, pool.submit(_read_bill, ctx, row.uuid) if wanted else None))
            if len(window) > PREFETCH_AHEAD:
                yield window.popleft()
        while window:
            yield window.popleft()
    finally:
        ctx.prefetched.clear()
        pool.shutdown(wait=True, cancel_futures=True)


def _read_bill(ctx: Context, uuid: str) -> Bill | MalformedRecord:
    try:
        return ctx.procurify.get_bill(uuid)
    finally:
        # A token store may have opened a database connection on this thread; don't leak it.
        connections.close_all()


def _worth_reading(ctx: Context, uuid: str, status: int) -> bool:
    # Drafts and pending bills are skipped from the list row alone: no detail read, no audit noise.
    if status in SYNC_STATUSES:
        return True
    if status in VOID_STATUSES:
        return ExternalRecord.objects.filter(
            organisation=ctx.organisation, object_type=BILL, procurify_id=uuid
        ).exists()
    return False


class _HoldRetries:
    """Held records worth retrying this run, minus those the stream lists (they were just processed).

    Picked before the stream, without HTTP: the mappings do not change during a step, holds made
    during the stream are either waiting on a mapping that does not resolve or on a QBO cooldown,
    so the list is the same as after it. Only ids of open holds are kept, never every id listed.
    """

    def __init__(self, ctx: Context, object_type: str) -> None:
        self.ctx, self.object_type = ctx, object_type
        ids = holds.retry_ids(ctx.organisation, object_type, resolvable=_resolvable(ctx))
        self.wanted = dict.fromkeys(i for i in ids if not i.startswith("malformed:"))

    def seen(self, procurify_id: str) -> None:
        self.wanted.pop(procurify_id, None)

    def run(self, process: Callable[[Context, str], str]) -> None:
        for procurify_id in self.wanted:
            self.ctx.audit.record(
                "decision",
                "Retrying a held record.",
                object_type=self.object_type,
                procurify_id=procurify_id,
            )
            process(self.ctx, procurify_id)


def _resolvable(ctx: Context) -> Callable[[str, str], bool]:
    def check(waiting_on_type: str, key: str) -> bool:
        refs = ctx.mappings.vendors if waiting_on_type == "vendor_mapping" else ctx.mappings.accounts
        ref = refs.get(int(key)) if key.isdigit() else None
        return ref is not None and ref.active

    return check


# ---- cursors -------------------------------------------------------------------------------------


def _cursor(organisation: Organisation, stream: str) -> SyncCursor:
    cursor, _ = SyncCursor.objects.get_or_create(organisation=organisation, stream=stream)
    return cursor


def _save_cursor(cursor: SyncCursor, value: datetime | None) -> None:
    """Optimistic write: only if nobody moved the cursor since we read it."""
    if value == cursor.value:
        return
    moved = SyncCursor.objects.filter(pk=cursor.pk, version=cursor.version).update(
        value=value, version=cursor.version + 1, updated_at=timezone.now()
    )
    if not moved:
        raise CursorConflict(f"The {cursor.stream} cursor was moved by another run.", code="cursor_conflict")
    cursor.value, cursor.version = value, cursor.version + 1


STEP_FUNCTIONS: dict[str, Callable[[Context], None]] = {
    "token_check": check_tokens,
    "reference": sync_reference,
    "vendors": sync_vendors,
    "purchase_orders": sync_purchase_orders,
    "bills": sync_bills,
}


# ---- replay --------------------------------------------------------------------------------------


def replay_record(
    organisation_id: int,
    object_type: str,
    procurify_id: str,
    *,
    procurify: ProcurifyClient | None = None,
    qbo: QBOClient | None = None,
    clock: Clock = timezone.now,
) -> str:
    """Run one record through the pipeline again (under its own SyncRun, so it never overlaps a sync).

    Returns the outcome: created, updated, unchanged, held, failed, skipped, or "busy" when the
    organisation has a run queued or running.
    """
    organisation = Organisation.objects.get(pk=organisation_id)
    if procurify is None or qbo is None:
        from connector.clients import procurify_client_for, qbo_client_for

        procurify, qbo = procurify or procurify_client_for(organisation), qbo or qbo_client_for(organisation)
    queued = runs.enqueue_run(organisation, SyncRun.Trigger.REPLAY)
    if queued is None:
        return "busy"
    run = runs.claim_run(queued.pk, clock())
    assert run is not None
    ctx = _context(organisation, run, procurify, qbo, clock, run.started_at or clock())
    process = {BILL: process_bill, PURCHASE_ORDER: process_purchase_order}[object_type]
    try:
        outcome = process(ctx, str(procurify_id))
    except ConnectorError as exc:
        runs.finish_run(run, SyncRun.Status.FAILED, counts=ctx.totals(), error=exc.message, now=clock())
        return "failed"
    runs.finish_run(run, SyncRun.Status.SUCCEEDED, counts=ctx.totals(), error="", now=clock())
    return outcome
