"""One record through the pipeline: read → decide → transform → write, or hold with a reason."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from connector import kinds
from connector.errors import Permanent, RecordHeld
from connector.hold_reasons import QBO_SIDE
from connector.kinds import BILL_LINKS, RecordKind
from connector.models import ExternalRecord, HeldRecord
from connector.procurify.schemas import MalformedRecord
from connector.sync import attachments, credits, holds, sign_flip
from connector.sync.audit import RecordAudit
from connector.sync.batch import QUEUED, BillBatch, Pending, Settle
from connector.sync.context import FAILED, HELD, Context, hold_record

# The plan of a Procurify bill: a QBO Bill, or a VendorCredit when its total is negative (credits.py).
from connector.sync.credits import plan_for as bill_plan
from connector.sync.decisions import (
    Decision,
    Hold,
    Link,
    Skip,
    decide_bill,
    decide_purchase_order,
    decide_removed_bill,
    syncable,
)
from connector.sync.drift_store import guard as drift_guard
from connector.sync.lanes import TwoLaneBatch
from connector.sync.sinks import BATCH_LANE, SINGLE, SINGLE_LANE, BatchedWrites, WriteSink
from connector.sync.transform import Held, Plan, po_plan
from connector.sync.vendor_create import created_currency
from connector.sync.writers import CREATED, UPDATED, payload_hash
from mappings import matching

BILL, PURCHASE_ORDER, VENDOR = RecordKind.BILL, RecordKind.PURCHASE_ORDER, RecordKind.VENDOR


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


def process_bill(ctx: Context, uuid: str, sink: WriteSink = SINGLE) -> str:
    """Read one bill's detail, decide, and carry the decision out; returns the outcome (also counted
    on the context). With a batching sink the outcome may be "queued": the write waits for its batch
    and is counted when the batch is settled."""
    if uuid in sink:
        sink.flush()  # listed twice: decide on what the first write left behind
    audit = ctx.audit.for_record(BILL, uuid)
    outcome = _bill(ctx, uuid, audit, sink)
    if outcome != QUEUED:
        ctx.count(BILL, outcome)
    return outcome


def bill_sink(ctx: Context, lanes: str = BATCH_LANE) -> WriteSink:
    """The sink for a step's bill (or purchase order) writes, by lanes (settings.QBO_WRITE_LANES);
    batched items settle like single writes (holds, counts)."""

    def settle(item: Pending, write: Callable[[], str]) -> str:
        kind = credits.record_type(item.object_type)  # a vendor credit's hold is its bill's
        outcome = settle_write(ctx, kind, item.procurify_id, item.label, item.audit, write)
        ctx.count(kind, outcome)
        return outcome

    return _sink(ctx, lanes, settle)


def vendor_sink(ctx: Context, lanes: str = BATCH_LANE) -> WriteSink:
    """The sink for new vendors: each one created in a batch is mapped, each refusal waits on its
    mapping, as on the single path (engine._create_vendor)."""

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

    return _sink(ctx, lanes, settle)


def _sink(ctx: Context, lanes: str, settle: Settle) -> WriteSink:
    if lanes == SINGLE_LANE:
        return SINGLE
    parts = (ctx.organisation, ctx.qbo, ctx.writer, ctx.audit, settle)
    if lanes == BATCH_LANE:
        return BatchedWrites(BillBatch(*parts))
    qbo = ctx.qbo

    def wait(batch: bool) -> float:
        return qbo.governor.wait(qbo.realm_id, batch=batch)

    return BatchedWrites(TwoLaneBatch(*parts, wait=wait))


def map_created_vendor(ctx: Context, key: str, qbo_id: str, plan: Plan, audit: RecordAudit) -> None:
    name = plan.payload["DisplayName"]
    matching.record_created_vendor(ctx.organisation, int(key), qbo_id, name, created_currency(plan))
    audit("mapping", f"Vendor '{name}' mapped to the QuickBooks vendor we created.")


def _bill(ctx: Context, uuid: str, audit: RecordAudit, sink: WriteSink) -> str:
    try:
        bill = ctx.read_bill(uuid)
    except Permanent as exc:
        if exc.status == 404:
            link = read_link(ctx, BILL, uuid)
            return carry_out(ctx, BILL, uuid, link.label, audit, decide_removed_bill(link), sink)
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
    if syncable(bill):
        attachments.note_bill(ctx, uuid, bill)
    link = read_link(ctx, BILL, uuid, refusals=syncable(bill))
    decision = decide_bill(bill, link, ctx.mappings, bill_plan)  # bill_plan: looked up now (tests patch it)
    return carry_out(ctx, BILL, uuid, credits.label(bill), audit, decision, sink)


def read_link(ctx: Context, object_type: str, procurify_id: str, *, refusals: bool = False) -> Link:
    """What we hold of the record's QuickBooks copies (one query), and with ``refusals`` the payloads
    QuickBooks refused within the cooldown (one more)."""
    types = BILL_LINKS if object_type == BILL else (object_type,)  # a bill may be a vendor credit
    rows = list(
        ExternalRecord.objects.filter(
            organisation=ctx.organisation, object_type__in=types, procurify_id=procurify_id
        ).values_list("object_type", "qbo_id", "extra", "label")
    )
    written = {kind: extra or {} for kind, qbo_id, extra, _ in rows if qbo_id}
    label = next((lbl for _, _, _, lbl in sorted(rows, key=lambda r: types.index(r[0]))), "")
    refused = _refused_hashes(ctx, object_type, procurify_id) if refusals else frozenset()
    return Link(written, frozenset(r[0] for r in rows), label, refused)


def _refused_hashes(ctx: Context, object_type: str, procurify_id: str) -> frozenset[str]:
    # The payloads of open QuickBooks-side refusals within the cooldown (holds.refused_recently, by hash).
    hashes = HeldRecord.objects.filter(
        organisation=ctx.organisation,
        object_type=object_type,
        procurify_id=str(procurify_id),
        state=HeldRecord.State.HELD,
        reason_code__in=QBO_SIDE,
        last_held_at__gt=timezone.now() - holds.QBO_SIDE_COOLDOWN,
    ).values_list("detail__payload_hash", flat=True)
    return frozenset(h for h in hashes if isinstance(h, str))


def process_purchase_order(ctx: Context, uuid: str, sink: WriteSink = SINGLE) -> str:
    if uuid in sink:
        sink.flush()  # listed twice: decide on what the first write left behind
    audit = ctx.audit.for_record(PURCHASE_ORDER, uuid)
    outcome = _purchase_order(ctx, uuid, audit, sink)
    if outcome != QUEUED:
        ctx.count(PURCHASE_ORDER, outcome)
    return outcome


def _purchase_order(ctx: Context, uuid: str, audit: RecordAudit, sink: WriteSink) -> str:
    try:
        po = ctx.read_purchase_order(uuid)
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
    link = read_link(ctx, PURCHASE_ORDER, uuid, refusals=True)
    decision = decide_purchase_order(po, link, ctx.mappings, po_plan, PURCHASE_ORDER)
    return carry_out(ctx, PURCHASE_ORDER, uuid, f"Purchase order {po.number}", audit, decision, sink)


def carry_out(
    ctx: Context,
    object_type: str,
    procurify_id: str,
    label: str,
    audit: RecordAudit,
    decision: Decision,
    sink: WriteSink = SINGLE,
) -> str:
    """The effects of a decision: an audit line and a resolved hold, a hold, or a write through the
    sink (which may queue it: QUEUED). Returns the outcome; the caller counts it."""
    if isinstance(decision, Skip):
        audit("decision", decision.reason)
        if decision.resolve:
            holds.resolve(ctx.organisation, object_type, procurify_id)
        return decision.outcome
    if isinstance(decision, Hold):
        return hold_record(ctx, object_type, procurify_id, decision.held(), label)
    write = decision

    def send() -> str:
        plan = write.plan
        audit("mapping", f"Vendor → QBO {plan.vendor_id}; payload built.", plan.payload)
        # Raises Held: what a person did in QuickBooks is never overwritten (drift_store.guard).
        drift_guard(ctx.organisation, object_type, procurify_id, plan, payload_hash(plan.payload))
        if write.refused:
            audit(
                "decision", "Unchanged since QuickBooks refused it; not sent again until the hold is retried."
            )
            return HELD
        if write.retire:
            sign_flip.retire_other_kind(ctx, procurify_id, write.kind, plan, audit)
        decided = sink.offer(write.kind, procurify_id, label, plan, audit)
        if decided is not None:
            return decided
        return ctx.writer.write(write.kind, procurify_id, plan, audit).outcome

    return settle_write(ctx, object_type, procurify_id, label, audit, send)


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
