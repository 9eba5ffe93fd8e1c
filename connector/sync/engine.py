"""The pipeline of one organisation: token check → reference/mappings → vendors → purchase orders → bills.

Clients are parameters (the entry points hand down the factory from connector/clients.py), so tests
and the management command run the same code against the sandbox. Purchase orders run before bills so a
bill can link to its PO in the same run (otherwise every PO bill would be updated a run later).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Hashable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

from connector import kinds, seam
from connector.client_factory import ClientFactory
from connector.errors import ConnectorError, QBOFault, Retryable
from connector.kinds import RecordKind
from connector.models import ExternalRecord, HeldRecord, SyncCursor, SyncRun
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import BillSummary, MalformedRecord, PurchaseOrder
from connector.qbo.client import QBOClient
from connector.sync import (
    attachments,
    cursors,
    drift,
    holds,
    payments,
    progress,
    reference_schedule,
    runs,
    sweep,
)
from connector.sync.audit import Audit
from connector.sync.batch import Pending
from connector.sync.cursor_store import load_cursor, save_cursor
from connector.sync.records import (
    BILL,
    FAILED,
    PURCHASE_ORDER,
    VENDOR,
    Context,
    bill_sink,
    hold_malformed,
    hold_record,
    map_created_vendor,
    process_bill,
    process_purchase_order,
    vendor_sink,
)
from connector.sync.reference import load_mappings, refresh_reference
from connector.sync.sinks import SINGLE, WriteSink, write_lanes
from connector.sync.transform import (
    SYNC_STATUSES,
    Held,
    books_allow,
    vendor_in_currency,
)
from connector.sync.vendor_create import create_vendor
from connector.sync.writers import Writer
from mappings import matching
from mappings.models import Source, VendorMapping
from tenants.models import Organisation

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
STEPS = (
    "token_check",
    "reference",
    "vendors",
    "purchase_orders",
    "bills",
    "attachments",
    "payments",
    "removals",
    "drift",
)
# Bill details are read this many rows ahead, on this many threads, while the main thread writes
# to QBO: Procurify publishes no rate limits (procurify.md), and with the reads off the critical
# path a run is paced by QBO alone. Small bounds: memory stays flat and a failed run wastes little.
PREFETCH_AHEAD = 40  # more than a batch: reads go on while a batch POST waits for its slot
PREFETCH_THREADS = 8
BEAT_SECONDS = 5.0
# A throttled QuickBooks (429 after the client's own retries) pauses the run, then the step runs
# again from its checkpoint. Intuit asks for a 60 s wait when it gives no Retry-After (QBO §9);
# a longer Retry-After is honoured. The run fails only once its pauses would pass the budget.
THROTTLE_PAUSE_SECONDS = 60.0
THROTTLE_BUDGET_SECONDS = 900.0  # default of settings.SYNC_THROTTLE_BUDGET_SECONDS
PAUSE_BEAT_SECONDS = 30.0  # a pause beats the heartbeat this often, so the reaper leaves it alone


class ThrottleDeferred(Retryable):
    """A throttled run hands its worker slot back: the task queues a new run after ``wait`` seconds
    (a Celery countdown) instead of sleeping; it resumes from the checkpoints like any next run."""

    def __init__(self, wait: float) -> None:
        super().__init__("QuickBooks asked us to slow down.", retry_after=wait, code="qbo_throttled")
        self.wait = wait


class SliceDone(Exception):
    """The run used its slice: it stopped at a durable checkpoint and its continuation is queued
    (connector/tasks.py), so one tenant's backfill never holds a worker while others wait."""


def run_pipeline(
    run_id: int,
    *,
    procurify: ProcurifyClient,
    qbo: QBOClient,
    clock: Clock = timezone.now,
    steps: Iterable[str] = STEPS,
    sleep: Callable[[float], None] | None = None,
    defer_throttle: bool = False,
    slice_seconds: float | None = None,
) -> SyncRun:
    """Claim a queued run and run its steps in order; a failing step ends this organisation's run.

    Args:
        run_id: a queued SyncRun. A run someone else claimed is returned untouched.
        procurify, qbo: clients for this organisation's Procurify site and QBO realm.
        clock: the run's clock; its value at the claim is the signpost no cursor may pass.
        steps: a subset of STEPS, in order (tests and the management command use subsets).
        sleep: how a throttle pause waits (default: the seam's, connector/seam.py, else time.sleep).
        defer_throttle: a throttle ends the run with ``counts["deferred_seconds"]`` instead of
            sleeping in the worker (the Celery task re-queues it with a countdown).
        slice_seconds: after this long the bills step stops at its next durable page; the run
            succeeds with ``counts["continues"]`` and the task queues the rest as a new run.

    Returns the SyncRun, finished (succeeded or failed) with counts and a plain error sentence.
    """
    run = runs.claim_run(run_id, clock())
    if run is None:
        return SyncRun.objects.get(pk=run_id)
    ctx = _context(run.organisation, run, procurify, qbo, clock, run.started_at or clock())
    pauses = ThrottlePauses(ctx, sleep or seam.pause(), _throttle_budget(), defer=defer_throttle)
    if slice_seconds:
        ctx.slice_ends_at = time.monotonic() + slice_seconds
    try:
        for name in steps:
            runs.beat(run, clock(), step=name)
            pauses.run_step(name, STEP_FUNCTIONS[name])
    except SliceDone:
        ctx.audit.record("decision", "This sync used its time slice; the rest continues in the next one.")
        counts = {**pauses.counts(), "continues": True}
        runs.finish_run(run, SyncRun.Status.SUCCEEDED, counts=counts, error="", now=clock())
        return run
    except ThrottleDeferred as exc:
        resume = clock() + timedelta(seconds=exc.wait)
        message = (
            f"QuickBooks asked us to slow down during '{run.step}'. This sync carries on automatically "
            f"at about {resume:%H:%M} UTC, from where it stopped."
        )
        ctx.audit.record("decision", message, data={"deferred_seconds": exc.wait})
        counts = {**pauses.counts(), "deferred_seconds": exc.wait}
        runs.finish_run(run, SyncRun.Status.FAILED, counts=counts, error=message, now=clock())
        return run
    except ConnectorError as exc:
        ctx.audit.record("error", f"Step '{run.step or name}' failed: {exc.message}")
        runs.finish_run(run, SyncRun.Status.FAILED, counts=pauses.counts(), error=exc.message, now=clock())
        return run
    except Exception as exc:
        log.exception("sync run %s failed", run.pk)
        message = f"An unexpected error stopped the sync ({type(exc).__name__}). We have been notified."
        runs.finish_run(run, SyncRun.Status.FAILED, counts=pauses.counts(), error=message, now=clock())
        return run
    runs.finish_run(run, SyncRun.Status.SUCCEEDED, counts=pauses.counts(), error="", now=clock())
    return run


def _throttle_budget() -> float:
    return float(getattr(settings, "SYNC_THROTTLE_BUDGET_SECONDS", THROTTLE_BUDGET_SECONDS))


class ThrottlePauses:
    """Runs steps; a QuickBooks throttle pauses the run and repeats the step, within a budget.

    Repeating is safe: writes are exactly-once (ExternalRecord, request ids), the bills step resumes
    from its last checkpoint, and the other steps are re-reads. The pauses are reported on the run.
    """

    def __init__(
        self, ctx: Context, sleep: Callable[[float], None], budget: float, *, defer: bool = False
    ) -> None:
        self.ctx, self.sleep, self.budget, self.defer = ctx, sleep, budget, defer
        self.pauses, self.seconds = 0, 0.0

    def run_step(self, name: str, step: Callable[[Context], None]) -> None:
        while True:
            try:
                step(self.ctx)
                return
            except Retryable as exc:
                if exc.code != "qbo_throttled":
                    raise
                wait = max(exc.retry_after or 0.0, THROTTLE_PAUSE_SECONDS)
                if self.defer:
                    raise ThrottleDeferred(wait) from exc
                if self.seconds + wait > self.budget:
                    raise self._exhausted() from exc
                self._pause(name, wait)

    def _pause(self, name: str, wait: float) -> None:
        self.pauses, self.seconds = self.pauses + 1, self.seconds + wait
        self.ctx.audit.record(
            "decision",
            f"QuickBooks asked us to slow down during '{name}'; paused {wait:.0f} s, then carried on.",
            data={
                "paused_seconds": wait,
                "total_paused_seconds": self.seconds,
                "budget_seconds": self.budget,
            },
        )
        left = wait
        while left > 0:
            self.sleep(min(left, PAUSE_BEAT_SECONDS))
            left -= PAUSE_BEAT_SECONDS
            if self.ctx.run:
                runs.beat(self.ctx.run, self.ctx.clock())

    def _exhausted(self) -> Retryable:
        return Retryable(
            f"QuickBooks kept asking us to slow down: this sync paused {self.pauses} times "
            f"({self.seconds / 60:.0f} minutes, its limit) and stopped. The next sync carries on from "
            "where this one stopped.",
            code="qbo_throttled",
        )

    def counts(self) -> dict[str, object]:
        throttle = {"pauses": self.pauses, "paused_seconds": self.seconds, "budget_seconds": self.budget}
        return {**self.ctx.totals(), "throttle": throttle}


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
    """Fail fast (ReauthRequired) before touching data if either side refuses us.

    QuickBooks' company info is a metered read: it is read only when the reference data is due
    (reference_schedule.py); otherwise a valid access token (OAuth is not metered) is the check.
    """
    ping = ctx.procurify.ping()
    if reference_schedule.due_reason(ctx.organisation, ctx.clock(), _trigger(ctx)):
        ctx.company_info = ctx.qbo.company_info()
    else:
        ctx.qbo.access_token()
    name = ctx.company_info.CompanyName if ctx.company_info else None
    data = {"qbo_company": name, "procurify_vendors": ping.vendor_count}
    ctx.audit.record("read", "Both connections answered.", data=data)


def _trigger(ctx: Context) -> str | None:
    return ctx.run.trigger if ctx.run else None


def sync_reference(ctx: Context) -> None:
    counts = refresh_reference(
        ctx.organisation,
        ctx.procurify,
        ctx.qbo,
        ctx.audit,
        ctx.clock(),
        company_info=ctx.company_info,
        trigger=_trigger(ctx),
        started_at=ctx.signpost,
    )
    ctx.counts.setdefault("reference", Counter()).update(counts)
    ctx.mappings = load_mappings(ctx.organisation)


def sync_vendors(ctx: Context, lanes: str | None = None) -> None:
    """Create the QBO vendors no one could match, when the organisation allows it."""
    if not ctx.organisation.create_missing_vendors:
        return
    held = set(
        HeldRecord.objects.filter(
            organisation=ctx.organisation, object_type=VENDOR, state=HeldRecord.State.HELD
        ).values_list("procurify_id", flat=True)
    )
    # A vendor waiting on a suggested match is never created: a person says whether it is the same company.
    pending = VendorMapping.objects.filter(
        organisation=ctx.organisation, qbo_vendor_id="", procurify_active=True, source=Source.NONE
    ).exclude(matching.SUGGESTION_PENDING)
    tried = False
    # 30 new vendors per request, like bills (batch.py); closing(): nothing is on its way after the step.
    with closing(vendor_sink(ctx, lanes or write_lanes())) as sink:
        for mapping in pending:
            key = str(mapping.procurify_vendor_id)
            if key in held:
                continue  # waits for a person (e.g. a name clash); released holds come back here
            tried = True
            _create_vendor(ctx, mapping, key, sink)
        sink.flush()
    if tried:  # a poll with no new vendor keeps the mappings it has (nine queries a poll)
        ctx.mappings = load_mappings(ctx.organisation)


def _create_vendor(ctx: Context, mapping: VendorMapping, key: str, sink: WriteSink = SINGLE) -> None:
    audit = ctx.audit.for_record(VENDOR, key)
    label = f"Vendor {mapping.procurify_name}"
    try:
        created = create_vendor(mapping, ctx.mappings.books, ctx.writer, audit, sink=sink)
    except Held as exc:
        exc.waiting_on_type, exc.waiting_on_key = "vendor_mapping", key
        ctx.count(VENDOR, hold_record(ctx, VENDOR, key, exc, label))
        return
    if created.result is None:
        return  # mapped when its batch is settled (records.vendor_batch)
    map_created_vendor(ctx, key, created.result.record.qbo_id, created.plan, audit)
    ctx.count(VENDOR, created.result.outcome)


def sync_purchase_orders(ctx: Context, lanes: str | None = None) -> None:
    """POs modified on the days of the window, by keyset (day granularity: each query re-reads the
    last day seen, de-duplicated by uuid and version), so a PO edited mid-run is never skipped."""
    cursor = load_cursor(ctx.organisation, "purchase_orders")
    start = cursors.read_start(cursor.value, signpost=ctx.signpost)
    first_day, last_day = cursors.day_window(start, cursors.read_end(ctx.signpost))
    retry = _HoldRetries(ctx, PURCHASE_ORDER)
    poll = _po_poll(ctx, first_day, last_day)
    written_before = _written(ctx, PURCHASE_ORDER)
    newest: datetime | None = None
    sink = bill_sink(ctx, lanes or write_lanes())  # purchase orders go 30 to a request, like bills
    try:
        # Details are read ahead, as for bills: read one at a time they were most of setup's wall time.
        with (
            closing(sink),
            closing(_read_ahead(ctx, poll, ctx.procurify.get_purchase_order, _listed_po)) as ahead,
        ):
            for row, detail in ahead:
                if isinstance(row, cursors.Mark):
                    _beat(ctx)
                    continue
                if _listed(ctx, "purchase_orders", row, detail, retry, process_purchase_order, sink):
                    newest = _later(newest, row.last_modified)
                    _beat(ctx)
            sink.flush()  # before the cursor moves: a waiting write is not durable
    except QBOFault as fault:
        ctx.audit.record("error", f"Purchase orders skipped: {fault.message}")
        return
    if poll.ceiling is not None:  # a day that kept changing: re-read from it next run
        newest = min(newest, cursors.day_start(poll.ceiling)) if newest else None
    save_cursor(cursor, cursors.advance(cursor.value, [newest], ctx.signpost))
    retry.run(process_purchase_order)
    if _written(ctx, PURCHASE_ORDER) > written_before:
        ctx.mappings = load_mappings(ctx.organisation)  # bills link to the POs written just now


def _written(ctx: Context, object_type: str) -> int:
    counts = ctx.counts.get(object_type, Counter())
    return counts["created"] + counts["updated"]


def _po_poll(ctx: Context, first_day: date, last_day: date) -> cursors.Keyset[date]:
    def fetch(low: date, high: date, number: int, by_id: bool) -> Any:
        page = ctx.procurify.purchase_orders_page(low, high, page=number, by_id=by_id)
        progress.listed(ctx, "purchase_orders", page, number, by_id)
        return page

    def stamp(row: PurchaseOrder | MalformedRecord) -> date | None:
        modified = row.last_modified if isinstance(row, PurchaseOrder) else None
        return modified.astimezone(cursors.UTC).date() if modified else None

    return cursors.Keyset(
        fetch, low=first_day, high=last_day, stamp=stamp, identity=_po_identity, after=cursors.next_day
    )


def _po_identity(row: PurchaseOrder | MalformedRecord) -> Hashable:
    if isinstance(row, MalformedRecord):
        return _malformed_identity(row)
    return (row.uuid, row.version if row.version is not None else row.last_modified)


def sync_bills(ctx: Context, lanes: str | None = None) -> None:
    """Bills modified in the window, by keyset (never by page number), checkpointing the cursor as
    each page is durably handled, so a run that dies restarts near where it died."""
    cursor = load_cursor(ctx.organisation, "bills")
    began_at = cursor.value
    start = cursors.read_start(cursor.value, signpost=ctx.signpost)
    # Memory stays flat with volume: the poll forgets identities below its query start, the hold
    # retries are picked before the stream (bounded by open holds, not by bills), a bounded
    # read-ahead window and a batch of at most 30 writes.
    retry = _HoldRetries(ctx, BILL)
    poll = _bill_poll(ctx, start, cursors.read_end(ctx.signpost))
    sink = bill_sink(ctx, lanes or write_lanes())  # the lanes are fixed for the step (lanes.py)
    checkpoints = _Checkpoints(cursor, sink, ctx.signpost)
    # closing(): a failing record stops the read-ahead threads now, not when the frame is collected,
    # and a batch on its way lands before the step ends (lanes.Flight).
    with closing(sink), closing(_read_ahead(ctx, poll, ctx.procurify.get_bill, _listed_bill)) as ahead:
        for row, detail in ahead:
            if isinstance(row, cursors.Mark):
                checkpoints.page_done(row.value)
                _beat(ctx)
                if ctx.slice_ends_at is not None and time.monotonic() >= ctx.slice_ends_at:
                    sink.flush()  # everything read so far is written, and the cursor says so
                    checkpoints.flushed()
                    if _moved(cursor.value, began_at):  # only after progress: the overlap re-reads
                        raise SliceDone
                continue
            if _listed(ctx, "bills", row, detail, retry, process_bill, sink):
                _beat(ctx)
        sink.flush()  # a failed run drops what waits: nothing of it was committed or sent
    checkpoints.flushed()
    retry.run(process_bill)  # one at a time (SINGLE): few, and each may wait on something else


def _listed(
    ctx: Context,
    step: str,
    row: Item,
    detail: Future[Any] | None,
    retry: _HoldRetries,
    process: Callable[[Context, str, WriteSink], str],
    sink: WriteSink,
) -> bool:
    """One listed row of a step: a malformed one is held (False); any other is handled, through its
    detail read ahead (a row whose detail was not worth reading is only counted as seen)."""
    object_type = retry.object_type
    if isinstance(row, MalformedRecord):
        ctx.count(object_type, hold_malformed(ctx, object_type, row))
        return False
    retry.seen(row.uuid)
    if detail is not None:
        ctx.prefetched[row.uuid] = detail
        _isolated(ctx, object_type, row.uuid, process, sink)
    progress.handled(ctx, step)
    return True


def _moved(value: datetime | None, began_at: datetime | None) -> bool:
    return value is not None and (began_at is None or value > began_at)


def _bill_poll(ctx: Context, start: datetime, end: datetime) -> cursors.Keyset[datetime]:
    def fetch(low: datetime, high: datetime, number: int, by_id: bool) -> Any:
        page = ctx.procurify.bills_page(low, high, page=number, by_id=by_id)
        progress.listed(ctx, "bills", page, number, by_id)
        return page

    return cursors.Keyset(
        fetch,
        low=start,
        high=end,
        stamp=_bill_stamp,
        identity=_bill_identity,
        after=cursors.next_microsecond,
    )


def _bill_stamp(row: BillSummary | MalformedRecord) -> datetime | None:
    return row.last_modified_datetime if isinstance(row, BillSummary) else None


def _bill_identity(row: BillSummary | MalformedRecord) -> Hashable:
    # (uuid, version): the same version listed twice (the overlap) is handled once; an edit is new.
    if isinstance(row, MalformedRecord):
        return _malformed_identity(row)
    return (row.uuid, row.version if row.version is not None else row.last_modified_datetime)


def _malformed_identity(row: MalformedRecord) -> Hashable:
    return ("malformed", row.record_id or json.dumps(row.raw, sort_keys=True, default=str))


class _Checkpoints:
    """Moves the bills cursor to a page's mark once every write of that page (and before) is settled;
    waiting writes (and a batch on its way) are not durable, and flushing a partial batch per page
    would cost QuickBooks requests. Items are matched by identity: a re-listed record is a new one."""

    def __init__(self, cursor: SyncCursor, sink: WriteSink, signpost: datetime) -> None:
        self.cursor, self.sink, self.signpost = cursor, sink, signpost
        self.waiting: list[tuple[datetime, list[Pending]]] = []

    def page_done(self, mark: datetime) -> None:
        now = self.sink.unsettled()
        self.waiting.append((mark, now))
        unsettled = {id(item) for item in now}
        durable = [
            i for i, (_, items) in enumerate(self.waiting) if not any(id(x) in unsettled for x in items)
        ]
        if durable:
            self._save(self.waiting[durable[-1]][0])
            del self.waiting[: durable[-1] + 1]

    def flushed(self) -> None:
        if self.waiting:
            self._save(self.waiting[-1][0])
            self.waiting.clear()

    def _save(self, mark: datetime) -> None:
        save_cursor(self.cursor, cursors.advance(self.cursor.value, [mark], self.signpost))


def _isolated(
    ctx: Context,
    object_type: str,
    procurify_id: str,
    process: Callable[[Context, str, WriteSink], str],
    sink: WriteSink = SINGLE,
) -> str:
    """One record's unexpected failure holds that record and the run goes on (issue 11 item 7).

    ConnectorErrors keep their meaning (ReauthRequired, throttling: stop or pause the run). A
    failure inside a batch flush belongs to the other records of the batch, so it stops the step.
    """
    if procurify_id in sink:
        sink.flush()  # outside the isolation: a failed flush is not this record's fault
    waiting = sink.pending
    try:
        return process(ctx, procurify_id, sink)
    except ConnectorError:
        raise
    except Exception as exc:
        if sink.pending is not waiting:
            raise  # a flush started under this record failed: the batch's records are not handled
        log.exception("%s %s failed", object_type, procurify_id)
        return _hold_failed(ctx, object_type, procurify_id, exc)


def _hold_failed(ctx: Context, object_type: str, procurify_id: str, exc: Exception) -> str:
    kind = kinds.spec(object_type).noun
    detail = f"An unexpected error ({type(exc).__name__}) stopped this {kind}; we have been notified."
    label = f"Procurify {kind} {procurify_id}"
    ctx.audit.record(
        "error",
        f"Unexpected {type(exc).__name__} while syncing this {kind}.",
        object_type=object_type,
        procurify_id=procurify_id,
        data={"error": type(exc).__name__},
    )
    hold_record(ctx, object_type, procurify_id, Held("sync_failed", detail=detail), label)
    ctx.count(object_type, FAILED)
    return FAILED


def _beat(ctx: Context) -> None:
    # A heartbeat per record was one UPDATE per bill; the reaper's threshold is minutes, not seconds.
    now = time.monotonic()
    if ctx.run and now - ctx.last_beat >= BEAT_SECONDS:
        ctx.last_beat = now
        runs.beat(ctx.run, ctx.clock())
        progress.save(ctx)  # "n of N" on the dashboard, at the beat the run already makes


def _later(newest: datetime | None, stamp: datetime | None) -> datetime | None:
    return stamp if newest is None or (stamp is not None and stamp > newest) else newest


Item = Any  # a listed row (summary or MalformedRecord) or a cursors.Mark


def _read_ahead(
    ctx: Context,
    rows: Iterable[Item],
    read: Callable[[str], Any],
    wanted: Callable[[Context, Item], str | None],
) -> Generator[tuple[Item, Future[Any] | None], None, None]:
    """Yield each listed row (and page mark) with its detail read already under way (None: not worth
    reading). ``wanted`` names the uuid to read for a row, or None.

    Rows still come out in list order, so holds, audit and the cursor see the same sequence as a
    sequential run; a read's exception surfaces when its row is processed (Context.read_bill).
    """
    window: deque[tuple[Item, Future[Any] | None]] = deque()
    pool = ThreadPoolExecutor(max_workers=PREFETCH_THREADS, thread_name_prefix="detail-read")
    try:
        for row in rows:
            uuid = wanted(ctx, row)
            window.append((row, pool.submit(_read_detail, read, uuid) if uuid is not None else None))
            if len(window) > PREFETCH_AHEAD:
                yield window.popleft()
        while window:
            yield window.popleft()
    finally:
        ctx.prefetched.clear()
        pool.shutdown(wait=True, cancel_futures=True)


def _listed_bill(ctx: Context, row: Item) -> str | None:
    return row.uuid if isinstance(row, BillSummary) and _worth_reading(ctx, row.uuid, row.status) else None


def _listed_po(ctx: Context, row: Item) -> str | None:
    return row.uuid if isinstance(row, PurchaseOrder) else None


def _read_detail(read: Callable[[str], Any], uuid: str) -> Any:
    try:
        return read(uuid)
    finally:
        # A token store may have opened a database connection on this thread; don't leak it.
        connections.close_all()


def _worth_reading(ctx: Context, uuid: str, status: int) -> bool:
    # Drafts and pending bills are skipped from the list row alone (no detail read, no audit noise),
    # unless they already reached QuickBooks: denied, withdrawn or sent back after that, a person decides.
    if status in SYNC_STATUSES:
        return True
    return (
        ExternalRecord.objects.filter(
            organisation=ctx.organisation, object_type__in=kinds.BILL_LINKS, procurify_id=uuid
        )
        .exclude(qbo_id="")
        .exists()
    )


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

    def run(self, process: Callable[[Context, str, WriteSink], str]) -> None:
        for procurify_id in self.wanted:
            self.ctx.audit.record(
                "decision",
                "Retrying a held record.",
                object_type=self.object_type,
                procurify_id=procurify_id,
            )
            _isolated(self.ctx, self.object_type, procurify_id, process)
            _beat(self.ctx)  # thousands of open holds take minutes: keep the reaper away


def _resolvable(ctx: Context) -> Callable[[str, str], bool]:
    def check(waiting_on_type: str, key: str) -> bool:
        if waiting_on_type == "books":
            return books_allow(ctx.mappings.books, key)
        if waiting_on_type == "vendor_currency":
            return vendor_in_currency(ctx.mappings, key)
        refs = ctx.mappings.vendors if waiting_on_type == "vendor_mapping" else ctx.mappings.accounts
        ref = refs.get(int(key)) if key.isdigit() else None
        return ref is not None and ref.active

    return check


# ---- cursors -------------------------------------------------------------------------------------


def sweep_removals(ctx: Context) -> None:
    """Daily and on "Sync now": bills that left Procurify after they reached QuickBooks (sweep.py)."""
    found = sweep.sweep_removals(ctx)
    if found["listed"]:
        ctx.counts.setdefault("removals", Counter()).update(found)


def sweep_drift(ctx: Context) -> None:
    """Daily and on "Sync now": what someone changed, deleted or paid in QuickBooks (drift.py)."""
    found = drift.sweep_drift(ctx)
    if found["metered_reads"]:
        ctx.counts.setdefault("drift", Counter()).update(found)


STEP_FUNCTIONS: dict[str, Callable[[Context], None]] = {
    "token_check": check_tokens,
    "reference": sync_reference,
    "vendors": sync_vendors,
    "purchase_orders": sync_purchase_orders,
    "bills": sync_bills,
    "attachments": attachments.sync_attachments,  # invoice files follow their bills (issue 15)
    "payments": payments.sync_payments,  # after bills: a payment needs its bills in QuickBooks
    "removals": sweep_removals,
    "drift": sweep_drift,
}


# ---- replay --------------------------------------------------------------------------------------


def replay_record(
    organisation_id: int,
    object_type: str,
    procurify_id: str,
    *,
    clients: ClientFactory,
    clock: Clock = timezone.now,
) -> str:
    """Run one record through the pipeline again (under its own SyncRun, so it never overlaps a sync).

    Returns the outcome: created, updated, unchanged, held, failed, skipped, or "busy" when the
    organisation has a run queued or running.
    """
    organisation = Organisation.objects.get(pk=organisation_id)
    procurify, qbo = clients.procurify(organisation), clients.qbo(organisation)
    queued = runs.enqueue_run(organisation, SyncRun.Trigger.REPLAY)
    if queued is None:
        return "busy"
    run = runs.claim_run(queued.pk, clock())
    assert run is not None
    ctx = _context(organisation, run, procurify, qbo, clock, run.started_at or clock())
    process = {BILL: process_bill, PURCHASE_ORDER: process_purchase_order}[RecordKind(object_type)]
    try:
        outcome = process(ctx, str(procurify_id))
    except ConnectorError as exc:
        runs.finish_run(run, SyncRun.Status.FAILED, counts=ctx.totals(), error=exc.message, now=clock())
        return "failed"
    runs.finish_run(run, SyncRun.Status.SUCCEEDED, counts=ctx.totals(), error="", now=clock())
    return outcome
