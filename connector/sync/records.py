"""One record through the pipeline: read → decide → transform → write, or hold with a reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector import kinds
from connector.errors import Permanent, RecordHeld
from connector.hold_reasons import QBO_SIDE
from connector.kinds import RecordKind
from connector.models import ExternalRecord, SyncRun
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import Bill, MalformedRecord
from connector.qbo.client import QBOClient
from connector.qbo.schemas import CompanyInfo
from connector.sync import credits, holds, reference_schedule, sign_flip
from connector.sync.audit import Audit, RecordAudit
from connector.sync.batch import QUEUED, BillBatch, Pending

# The plan of a Procurify bill: a QBO Bill, or a VendorCredit when its total is negative (credits.py).
from connector.sync.credits import plan_for as bill_plan
from connector.sync.drift_store import guard as drift_guard
from connector.sync.transform import (
    PO_CANCELLED,
    SYNC_STATUSES,
    VOID_STATUSES,
    Held,
    Mappings,
    Plan,
    po_plan,
)
from connector.sync.vendor_create import created_currency
from connector.sync.writers import CREATED, UPDATED, Writer, payload_hash
from mappings import matching
from tenants.models import Organisation

BILL, PURCHASE_ORDER, VENDOR = RecordKind.BILL, RecordKind.PURCHASE_ORDER, RecordKind.VENDOR
SKIPPED, HELD, FAILED = "skipped", "held", "failed"


@dataclass
class Context:
    """Everything one run needs; built once by the engine and passed to every step."""

    organisation: Organisation
    run: SyncRun | None
    procurify: ProcurifyClient
    qbo: QBOClient
    clock: Callable[[], datetime]
    signpost: datetime
    audit: Audit
    writer: Writer
    mappings: Mappings = field(default_factory=Mappings)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    # Bill details the engine started reading ahead (engine.sync_bills), by uuid.
    prefetched: dict[str, Future[Bill | MalformedRecord]] = field(default_factory=dict)
    # Set by engine.sync_bills while it streams: bill writes wait here and go to QBO 30 at a time.
    batch: BillBatch | None = None
    # QBO's company info as the token check read it: the reference step reuses it (one metered read).
    company_info: CompanyInfo | None = None
    last_beat: float = 0.0  # time.monotonic() of the last run heartbeat (engine._beat)
    # Per step: rows listed and handled, shown as "n of N" while the run works (sync/progress.py).
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Invoice files of the bills read this run, by attachment key, with their download links
    # (connector/sync/attachments.py).
    files: dict[str, Any] = field(default_factory=dict)
    # time.monotonic() after which the bills step stops at its next durable page (engine.SliceDone).
    slice_ends_at: float | None = None

    def read_bill(self, uuid: str) -> Bill | MalformedRecord:
        """The bill's detail: a read-ahead's result (or its exception) when one was started."""
        future = self.prefetched.pop(uuid, None)
        return future.result() if future is not None else self.procurify.get_bill(uuid)

    def count(self, object_type: str, outcome: str) -> None:
        self.counts.setdefault(object_type, Counter())[outcome] += 1

    def totals(self) -> dict[str, object]:
        total: Counter[str] = Counter()
        for per_type in self.counts.values():
            total.update(per_type)
        summary: dict[str, object] = {
            k: total.get(k, 0) for k in ("created", "updated", "unchanged", "held", "failed")
        }
        summary["by_type"] = {k: dict(v) for k, v in self.counts.items()}
        return summary


def hold_record(ctx: Context, object_type: str, procurify_id: str, exc: RecordHeld, label: str) -> str:
    holds.hold(ctx.organisation, object_type, procurify_id, exc, label=label, run=ctx.run)
    if exc.reason_code in QBO_SIDE:  # our copies of QuickBooks' lists may be stale
        reference_schedule.request_refresh(ctx.organisation)
    ctx.audit.record(
        "hold",
        exc.message,
        object_type=object_type,
        procurify_id=procurify_id,
        data={"reason_code": exc.reason_code},
    )
    return HELD


def hold_malformed(ctx: Context, object_type: str, record: MalformedRecord) -> str:
    # A record we cannot read still gets a row a person can see; its id may be unknown. The key is a
    # digest of the record's canonical JSON, the same in every process (hash() is salted per process,
    # so each worker restart made a second hold for the same record).
    import hashlib
    import json

    canonical = json.dumps(record.raw, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:24]
    procurify_id = record.record_id or f"malformed:{digest}"
    kind = kinds.spec(object_type).procurify_noun
    return hold_record(ctx, object_type, procurify_id, record.held(kind), label=f"{kind} {procurify_id}")


def process_bill(ctx: Context, uuid: str) -> str:
    """Read one bill's detail and sync it; returns the outcome (also counted on the context).

    While a batch is open (ctx.batch) the outcome may be "queued": the write waits for its batch
    and is counted when the batch is settled.
    """
    if ctx.batch is not None and uuid in ctx.batch:
        ctx.batch.flush()  # listed twice: decide on what the first write left behind
    audit = ctx.audit.for_record(BILL, uuid)
    outcome = _bill(ctx, uuid, audit)
    if outcome != QUEUED:
        ctx.count(BILL, outcome)
    return outcome


def bill_batch(ctx: Context) -> BillBatch:
    """A batch for this run's bill writes whose items settle like single writes (holds, counts)."""

    def settle(item: Pending, write: Callable[[], str]) -> str:
        kind = credits.record_type(item.object_type)  # a vendor credit's hold is its bill's
        outcome = settle_write(ctx, kind, item.procurify_id, item.label, item.audit, write)
        ctx.count(kind, outcome)
        return outcome

    return BillBatch(ctx.organisation, ctx.qbo, ctx.writer, ctx.audit, settle)


def vendor_batch(ctx: Context) -> BillBatch:
    """A batch for new vendors: each one created is mapped, each refusal waits on its mapping, as on
    the single path (engine._create_vendor)."""

    def settle(item: Pending, write: Callable[[], str]) -> str:
        def write_and_map() -> str:
            try:
                outcome = write()
            except Held as exc:
                exc.waiting_on_type, exc.waiting_on_key = "vendor_mapping", item.procurify_id
                raise
            if outcome in (CREATED, UPDATED):
                record = ExternalRecord.objects.get(
                    organisation=ctx.organisation, object_type=VENDOR, procurify_id=item.procurify_id
                )
                map_created_vendor(ctx, item.procurify_id, record.qbo_id, item.plan, item.audit)
            return outcome

        outcome = settle_write(ctx, VENDOR, item.procurify_id, item.label, item.audit, write_and_map)
        ctx.count(VENDOR, outcome)
        return outcome

    return BillBatch(ctx.organisation, ctx.qbo, ctx.writer, ctx.audit, settle)


def map_created_vendor(ctx: Context, key: str, qbo_id: str, plan: Plan, audit: RecordAudit) -> None:
    name = plan.payload["DisplayName"]
    matching.record_created_vendor(ctx.organisation, int(key), qbo_id, name, created_currency(plan))
    audit("mapping", f"Vendor '{name}' mapped to the QuickBooks vendor we created.")


def _bill(ctx: Context, uuid: str, audit: RecordAudit) -> str:
    try:
        bill = ctx.read_bill(uuid)
    except Permanent as exc:
        if exc.status == 404:
            return _removed(ctx, uuid, audit)
        if exc.code == "malformed_envelope":
            # One unreadable answer (truncated JSON, an HTML page) holds this bill, retried each run;
            # it must not stop the run for every other bill (issue 7).
            audit("error", exc.message)
            hold_record(ctx, BILL, uuid, Held("sync_failed", detail=exc.message), f"Procurify bill {uuid}")
            return FAILED
        raise
    if isinstance(bill, MalformedRecord):
        return hold_malformed(ctx, BILL, bill)
    audit("read", f"Read Procurify bill {bill.invoice_number or bill.id} (status {bill.status}).", bill)
    label = credits.label(bill)
    if bill.status in VOID_STATUSES or bill.active is False:
        return _voided(ctx, uuid, label, audit)
    if bill.status not in SYNC_STATUSES:
        if _in_qbo(ctx, BILL, uuid):
            # Sent back to draft or for approval after it was written: a person decides (issue 11).
            return hold_record(ctx, BILL, uuid, Held("bill_unapproved_after_sync", bill=label), label)
        audit("decision", f"Status {bill.status} is not approved yet; not synced.")
        return SKIPPED
    from connector.sync import attachments  # it builds on this module

    attachments.note_bill(ctx, uuid, bill)
    link = credits.link_type(bill)  # a Bill, or a VendorCredit when the total is negative
    previous_rate = _sent_rate(ctx, uuid, link)
    return _write(
        ctx,
        BILL,
        uuid,
        label,
        audit,
        lambda: bill_plan(bill, ctx.mappings, previous_rate=previous_rate),
        link=link,
        before=lambda plan: sign_flip.retire_other_kind(ctx, uuid, link, plan, audit),
    )


def _sent_rate(ctx: Context, uuid: str, link: str = BILL) -> Decimal | None:
    """The exchange rate QuickBooks holds for this bill from an earlier write, if any."""
    extra = (
        ExternalRecord.objects.filter(organisation=ctx.organisation, object_type=link, procurify_id=uuid)
        .exclude(qbo_id="")
        .values_list("extra", flat=True)
        .first()
    )
    rate = (extra or {}).get("exchange_rate")
    try:
        return Decimal(rate) if rate else None
    except InvalidOperation:
        return None


def _voided(ctx: Context, uuid: str, label: str, audit: RecordAudit) -> str:
    if not _in_qbo(ctx, BILL, uuid):
        audit("decision", "Voided or withdrawn before it reached QuickBooks; nothing to do.")
        holds.resolve(ctx.organisation, BILL, uuid)
        return SKIPPED
    # Never delete silently: a person decides what happens to the QuickBooks bill.
    return hold_record(ctx, BILL, uuid, Held("bill_voided_in_procurify", bill=label), label)


def _removed(ctx: Context, uuid: str, audit: RecordAudit) -> str:
    if not _in_qbo(ctx, BILL, uuid):
        audit("decision", "Procurify no longer has this bill and it never reached QuickBooks.")
        holds.resolve(ctx.organisation, BILL, uuid)
        return SKIPPED
    label = ExternalRecord.objects.filter(
        organisation=ctx.organisation, object_type__in=kinds.BILL_LINKS, procurify_id=uuid
    ).values_list("label", flat=True)[0]
    return hold_record(ctx, BILL, uuid, Held("bill_removed_in_procurify", bill=label), label)


def _in_qbo(ctx: Context, object_type: str, procurify_id: str) -> bool:
    types = kinds.BILL_LINKS if object_type == BILL else (object_type,)  # a bill may be a vendor credit
    return (
        ExternalRecord.objects.filter(
            organisation=ctx.organisation, object_type__in=types, procurify_id=procurify_id
        )
        .exclude(qbo_id="")
        .exists()
    )


def process_purchase_order(ctx: Context, uuid: str) -> str:
    if ctx.batch is not None and uuid in ctx.batch:
        ctx.batch.flush()  # listed twice: decide on what the first write left behind
    audit = ctx.audit.for_record(PURCHASE_ORDER, uuid)
    outcome = _purchase_order(ctx, uuid, audit)
    if outcome != QUEUED:
        ctx.count(PURCHASE_ORDER, outcome)
    return outcome


def _purchase_order(ctx: Context, uuid: str, audit: RecordAudit) -> str:
    try:
        po = ctx.procurify.get_purchase_order(uuid)
    except Permanent as exc:
        if exc.code != "malformed_envelope":
            raise
        # As for bills: one unreadable answer holds this PO (retried later), not the whole run.
        audit("error", exc.message)
        label = f"Procurify purchase order {uuid}"
        return hold_record(ctx, PURCHASE_ORDER, uuid, Held("sync_failed", detail=exc.message), label)
    if isinstance(po, MalformedRecord):
        return hold_malformed(ctx, PURCHASE_ORDER, po)
    audit("read", f"Read Procurify purchase order {po.number} (state {po.state}).", po)
    label = f"Purchase order {po.number}"
    if po.state == PO_CANCELLED and not _in_qbo(ctx, PURCHASE_ORDER, uuid):
        # A cancelled PO is never written; one cancelled after it was written is closed (po_plan).
        audit("decision", "Cancelled in Procurify before it reached QuickBooks; not written.")
        holds.resolve(ctx.organisation, PURCHASE_ORDER, uuid)
        return SKIPPED
    return _write(ctx, PURCHASE_ORDER, uuid, label, audit, lambda: po_plan(po, ctx.mappings))


def _write(
    ctx: Context,
    object_type: str,
    procurify_id: str,
    label: str,
    audit: RecordAudit,
    plan_fn: Callable[[], Plan],
    *,
    link: str | None = None,
    before: Callable[[Plan], None] | None = None,
) -> str:
    """link: the ExternalRecord type of the write when it is not object_type (a vendor credit);
    before: runs once the plan is known, before any write (sign_flip.retire_other_kind)."""
    link = link or object_type

    def write() -> str:
        plan = plan_fn()
        audit("mapping", f"Vendor → QBO {plan.vendor_id}; payload built.", plan.payload)
        # Raises Held: what a person did in QuickBooks is never overwritten (drift_store.guard).
        drift_guard(ctx.organisation, object_type, procurify_id, plan, payload_hash(plan.payload))
        if holds.refused_recently(ctx.organisation, object_type, procurify_id, payload_hash(plan.payload)):
            audit(
                "decision", "Unchanged since QuickBooks refused it; not sent again until the hold is retried."
            )
            return HELD
        if before is not None:
            before(plan)
        if ctx.batch is not None and object_type in (BILL, PURCHASE_ORDER):
            decided = ctx.batch.offer(link, procurify_id, label, plan, audit)
            if decided is not None:
                return decided
        return ctx.writer.write(link, procurify_id, plan, audit).outcome

    return settle_write(ctx, object_type, procurify_id, label, audit, write)


def settle_write(
    ctx: Context,
    object_type: str,
    procurify_id: str,
    label: str,
    audit: RecordAudit,
    write: Callable[[], str],
) -> str:
    """Run a write; what it raised becomes a hold, what it wrote resolves the record's hold."""
    try:
        outcome = write()
    except RecordHeld as exc:
        return hold_record(ctx, object_type, procurify_id, exc, label)
    except Permanent as exc:  # e.g. a refused read; writes already became holds in the writer
        audit("error", exc.message)
        hold_record(ctx, object_type, procurify_id, Held("sync_failed", detail=exc.message), label)
        return FAILED
    if outcome not in (HELD, QUEUED):
        holds.resolve(ctx.organisation, object_type, procurify_id)
    return outcome
