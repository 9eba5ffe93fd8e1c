"""Writes through QBO ``/batch``: up to 30 per request, still exactly once (QBO §2, §7, §13).

Bills, purchase orders and new vendors (one batch per step; a chunk holds one entity).

Why batches: QBO allows 500 requests/min per realm but 40 batch requests/min of 30 items each,
so a batch-writing run can move 1,200 bills/min where one request per bill stops near 400.

Exactly-once, per chunk:
1. One transaction commits a "creating" ExternalRecord for every create in the chunk, each with
   request_id "<batch requestid>:<bId>", BEFORE the POST. A worker killed after the POST leaves
   rows that the next run looks up by their PrivateNote marker and adopts (Writer.write).
2. The POST carries the batch requestid (32 chars, ≤ 36) and bIds "b1".."b30" (≤ 10 chars); the
   client's retries reuse it, so a lost response is replayed by QBO, not re-run.
3. A batch that still fails (5xx/timeout after retries, a refusal of the whole request, an answer
   we cannot read) is ambiguous: every item goes down the single-write path, which looks creates
   up by marker before it POSTs anything again.
4. Items are judged one by one (HTTP 200 even when items fail): a refusal becomes the same hold
   as a single write (writers.held_for_fault); 5010 on an update re-reads and retries
   (Writer.retry_stale); an item with no usable answer takes the single-write path.

The vendors, purchase orders and bills steps batch (engine.py), and only a full chunk: fewer than
``MIN_BATCH`` waiting writes (a small run, the end of a stream) go one at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from connector.errors import ConnectorError, QBOFault, ReauthRequired
from connector.kinds import BY_QBO_ENTITY, KINDS, RecordKind
from connector.models import ExternalRecord
from connector.qbo import query as q
from connector.qbo.client import MAX_BATCH_ITEMS, BatchItemResult, QBOClient
from connector.qbo.schemas import Entity
from connector.sync.audit import Audit, RecordAudit
from connector.sync.transform import Plan
from connector.sync.writers import CREATED, UNCHANGED, UPDATED, Writer, attempt, payload_hash
from tenants.models import Organisation

QUEUED = "queued"  # the outcome of a write waiting in a batch; counted when the batch is settled
BATCH_SIZE = MAX_BATCH_ITEMS
MIN_BATCH = BATCH_SIZE  # a module constant so tests can make small batches


@dataclass
class Pending:
    """One write waiting for its batch."""

    object_type: str
    procurify_id: str
    label: str
    plan: Plan
    digest: str
    audit: RecordAudit
    record: ExternalRecord | None  # None until the batch commits the "creating" row; else the row
    create: bool
    bid: str = ""
    checked: bool = False  # its lost-link lookup ran and found nothing: it may be created without one
    checking: bool = False  # its lost-link lookup is under way on a background thread (lanes.py)


# settle(item, write): run write() (an outcome, or raises RecordHeld/Permanent), turn what it raised
# into a hold, count the outcome and resolve holds. records.py owns holds and counts; see settle_write.
Settle = Callable[[Pending, Callable[[], str]], str]


class BillBatch:
    """Collects one step's writes (bills, purchase orders or vendors) and sends them in chunks;
    flush() before anything reads them."""

    def __init__(
        self, organisation: Organisation, qbo: QBOClient, writer: Writer, audit: Audit, settle: Settle
    ) -> None:
        self.organisation, self.qbo, self.writer, self.audit = organisation, qbo, writer, audit
        self.settle = settle
        self.pending: dict[str, Pending] = {}

    def __contains__(self, procurify_id: str) -> bool:
        return procurify_id in self.pending

    def unsettled(self) -> list[Pending]:
        """Writes taken and not yet settled: waiting here (and, in lanes.py, on their way)."""
        return list(self.pending.values())

    def offer(
        self, object_type: str, procurify_id: str, label: str, plan: Plan, audit: RecordAudit
    ) -> str | None:
        """Queue the write and return QUEUED, or decide it now: UNCHANGED, or None for "write it
        one at a time" (a row left "creating" by an earlier attempt needs the marker lookup first)."""
        if procurify_id in self:
            self.flush()  # listed twice: the first write must land before the second is judged
        digest = payload_hash(plan.payload)
        record = ExternalRecord.objects.filter(
            organisation=self.organisation, object_type=object_type, procurify_id=procurify_id
        ).first()
        if record is not None and (
            record.state != ExternalRecord.State.SYNCED or record.realm_id not in ("", self.qbo.realm_id)
        ):
            return None  # the single path decides: a lookup first, or a refusal for another company
        if record is not None and record.payload_hash == digest:
            audit("decision", "Unchanged since the last sync; nothing sent.", {"hash": digest})
            return UNCHANGED
        create = record is None
        self.pending[procurify_id] = Pending(
            object_type, procurify_id, label, plan, digest, audit, record, create
        )
        self._taken()
        return QUEUED

    def close(self) -> None:
        """The step is over: this batch sends on the caller's thread, so nothing is on its way."""

    def _taken(self) -> None:
        """A write was queued: a full chunk goes at once."""
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        chunk = list(self.pending.values())
        self.pending = {}
        if not chunk:
            return
        if len(chunk) < MIN_BATCH:
            for item in chunk:
                self._one_at_a_time(item)
            return
        chunk = self._without_lost_links(chunk)
        if chunk:
            self._post(chunk)

    def _post(self, chunk: list[Pending]) -> None:
        """One /batch request for items whose lost-link lookup already ran."""
        request_id, body = self._prepare(chunk)
        self._finish(chunk, request_id, lambda: self.qbo.batch(body, request_id=request_id))

    def _prepare(self, chunk: list[Pending]) -> tuple[str, list[dict[str, Any]]]:
        """Everything before the POST: bIds, the committed "creating" rows, the request's audit."""
        request_id = uuid.uuid4().hex  # 32 characters: within /batch's 36 (§2)
        for index, item in enumerate(chunk, start=1):
            item.bid = f"b{index}"
        self._begin_creates(chunk, request_id)
        body = [self._item(item) for item in chunk]
        self.audit.record_many(
            [_request_event(item, request_id, entry) for item, entry in zip(chunk, body, strict=True)]
        )
        return request_id, body

    def _finish(
        self, chunk: list[Pending], request_id: str, send: Callable[[], list[BatchItemResult | QBOFault]]
    ) -> None:
        """The POST's answer (``send`` returns it or raises what it raised), settled item by item."""
        try:
            results = send()
        except ReauthRequired:
            raise
        except ConnectorError as exc:
            # Ambiguous: some items may have landed. The single path looks each create up first.
            self.audit.record(
                "error",
                f"A batch of {len(chunk)} {chunk[0].plan.entity} writes failed ({exc.message}); writing "
                "them one at a time.",
                data={"request_id": request_id},
            )
            for item in chunk:
                self._one_at_a_time(item)
            return
        self._settle_results(chunk, results)

    # ---- before the POST ------------------------------------------------------------------------

    def _without_lost_links(self, chunk: list[Pending]) -> list[Pending]:
        """Creates whose bill QBO already holds under our marker (a link row lost to a restore) go the
        single path, which adopts them (lost_links)."""
        lost = lost_links(chunk, self.qbo)
        self._looked_up(chunk, lost)
        self._adopt_lost(lost)
        return [item for item in chunk if item not in lost]

    def _looked_up(self, chunk: list[Pending], lost: list[Pending]) -> None:
        """Each create's trail says it was looked for before it was sent (one insert per chunk)."""
        events = [
            _event(
                i, "read", f"Looked up with its batch: no {i.plan.entity} with marker {i.plan.marker}.", {}
            )
            for i in chunk
            if i.create and i.plan.marker and i not in lost
        ]
        if events:
            self.audit.record_many(events)

    def _adopt_lost(self, lost: list[Pending]) -> None:
        for item in lost:
            noun = KINDS[BY_QBO_ENTITY.get(item.plan.entity, RecordKind.BILL)].noun
            item.audit("decision", f"QuickBooks already holds this {noun} under our marker; adopting it.")
            self._one_at_a_time(item)

    def _begin_creates(self, chunk: list[Pending], request_id: str) -> None:
        """Commit a "creating" row per create before the POST (style.md item 7)."""
        creates = [item for item in chunk if item.create]
        if not creates:
            return
        rows = [
            ExternalRecord(
                organisation=self.organisation,
                object_type=item.object_type,
                procurify_id=item.procurify_id,
                label=item.plan.label[:200],
                qbo_entity=item.plan.entity,
                realm_id=self.qbo.realm_id,
                request_id=f"{request_id}:{item.bid}",
                pending_hash=item.digest,
                state=ExternalRecord.State.CREATING,
                extra={"attempt": attempt(item.plan)},
            )
            for item in creates
        ]
        with transaction.atomic():
            ExternalRecord.objects.bulk_create(rows)
        for item, row in zip(creates, rows, strict=True):
            item.record = row

    def _item(self, item: Pending) -> dict[str, Any]:
        entity = item.plan.entity
        if item.create:
            return {"bId": item.bid, "operation": "create", entity: item.plan.payload}
        assert item.record is not None
        body = {"Id": item.record.qbo_id, "SyncToken": item.record.sync_token, "sparse": True}
        return {"bId": item.bid, "operation": "update", entity: {**body, **item.plan.payload}}

    # ---- after the POST -------------------------------------------------------------------------

    def _settle_results(self, chunk: list[Pending], results: list[BatchItemResult | QBOFault]) -> None:
        written: list[tuple[Pending, Entity]] = []
        events: list[tuple[str, str, str, str, Any]] = []
        for item, result in zip(chunk, results, strict=True):
            if isinstance(result, BatchItemResult) and isinstance(result.data, Entity):
                assert item.record is not None
                self.writer.stamp(item.record, result.data, item.digest, item.plan)
                written.append((item, result.data))
                verb = "Created" if item.create else "Updated"
                data = {"Id": result.data.Id, "SyncToken": result.data.SyncToken, "bId": item.bid}
                events.append(_event(item, "response", f"{verb} {item.plan.entity} {result.data.Id}", data))
        if written:
            fields = [
                "qbo_id",
                "sync_token",
                "payload_hash",
                "pending_hash",
                "state",
                "last_synced_at",
                "extra",
            ]
            stamped = [i.record for i, _ in written if i.record is not None]  # all of them: asserted above
            ExternalRecord.objects.bulk_update(stamped, [*fields, "updated_at"])
            self.audit.record_many(events)
        done = {id(i) for i, _ in written}
        for item, result in zip(chunk, results, strict=True):
            if id(item) in done:
                # misc: mypy cannot infer a lambda whose default binds the loop variable
                self.settle(item, lambda item=item: CREATED if item.create else UPDATED)  # type: ignore[misc]
            else:
                self._item_failed(item, result)

    def _item_failed(self, item: Pending, result: BatchItemResult | QBOFault) -> None:
        record = item.record
        assert record is not None
        if not isinstance(result, QBOFault) or _ambiguous(result):
            item.audit("response", "QuickBooks gave no usable answer for this batch item.", {"bId": item.bid})
            self._one_at_a_time(item)
            return
        verb = "create" if item.create else "update"
        item.audit("response", f"QuickBooks refused the {verb}.", {"fault": str(result), "bId": item.bid})
        if item.create and (result.is_duplicate_request() or result.is_duplicate_docnumber()):
            self._one_at_a_time(item)  # the single path looks ours up and adopts it (600, 6140)
            return
        if not item.create and result.is_stale_object():
            plan, digest, audit = item.plan, item.digest, item.audit
            self.settle(item, lambda: self.writer.retry_stale(record, plan, digest, audit).outcome)
            return

        def refuse() -> str:
            raise self.writer.refused(record, result, item.plan, create=item.create)

        self.settle(item, refuse)

    def _one_at_a_time(self, item: Pending) -> None:
        def write() -> str:
            looked_up = item.checked and item.record is None  # a create whose marker lookup found nothing
            kind, key, plan, audit = item.object_type, item.procurify_id, item.plan, item.audit
            return self.writer.write(kind, key, plan, audit, looked_up=looked_up).outcome

        self.settle(item, write)


def lost_links(chunk: list[Pending], qbo: QBOClient) -> list[Pending]:
    """The creates of ``chunk`` QuickBooks already holds under our marker. A DocNumber alone is no
    duplicate guard in a company that allows duplicate numbers, and a bill renumbered since is found
    by its vendor and date (docs/qbo-facts.md): at most two queries per chunk of up to 30 bills.
    Reads only: no database, so it may run on a background thread with a detached client (lanes.py)."""
    lost: list[Pending] = []
    # Bills, vendor credits (negative bills, connector/sync/credits.py) and purchase orders live in
    # separate lists; a new vendor has no marker to find (its lost link is found by name, singly).
    for entity in sorted({item.plan.entity for item in chunk} - {"Vendor"}):
        creates = [i for i in chunk if i.create and i.plan.marker and i.plan.entity == entity]
        for where in _lost_link_queries(creates):
            if not creates:
                break
            notes = " ".join(getattr(row, "PrivateNote", None) or "" for row in qbo.query_all(entity, where))
            found = [item for item in creates if f"{item.plan.marker} " in f"{notes} "]
            lost += found
            creates = [item for item in creates if item not in found]
    return lost


def _lost_link_queries(creates: list[Pending]) -> Iterator[list[str]]:
    """By number first, then (for what is still unfound) by vendor and date."""
    numbers = sorted({item.plan.doc_number for item in creates if item.plan.doc_number})
    if numbers:
        yield [q.in_("DocNumber", numbers)]
    dates = sorted(
        {str(item.plan.payload.get("TxnDate")) for item in creates if item.plan.payload.get("TxnDate")}
    )
    vendors = sorted({item.plan.vendor_id for item in creates if item.plan.vendor_id})
    if dates and vendors:
        yield [q.in_("VendorRef", vendors), q.in_("TxnDate", dates)]


def _ambiguous(fault: QBOFault) -> bool:
    # No code (no answer for the bId), throttled or an internal error: nothing says it did not land.
    codes = fault.codes()
    return not codes or fault.is_throttled() or "10000" in codes


def _event(item: Pending, kind: str, message: str, data: Any) -> tuple[str, str, str, str, Any]:
    return (item.object_type, item.procurify_id, kind, message, data)


def _request_event(item: Pending, request_id: str, entry: dict[str, Any]) -> tuple[str, str, str, str, Any]:
    entity = item.plan.entity
    message = f"Create {entity}" if item.create else f"Update {entity} {entry[entity]['Id']}"
    data = {"request_id": f"{request_id}:{item.bid}", "batch_request_id": request_id, "body": entry}
    return _event(item, "request", f"{message} (batch)", data)
