"""Idempotent QBO writes through ExternalRecord and a payload hash (style.md item 7, QBO §13).

- Absent row: persist a "creating" row with a request_id (committed on its own), then POST.
- A "creating" row left by a dead process: look the object up by its marker; adopt it if found,
  else POST again with the SAME request_id (QBO replays the original answer).
- Known row, same hash: skip. Changed hash: sparse update with the stored SyncToken; on 5010
  re-read, refuse to touch a paid bill, retry with the fresh token (bounded).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from connector.errors import Permanent, QBOFault, Retryable
from connector.models import ExternalRecord
from connector.qbo import query as q
from connector.qbo.client import QBOClient
from connector.qbo.schemas import Entity
from connector.sync.audit import RecordAudit
from connector.sync.drift_diff import WRITTEN, written
from connector.sync.drift_store import changed_by_someone
from connector.sync.transform import Held, Plan
from tenants.models import Organisation

MAX_STALE_RETRIES = 2  # QBO §4: re-read and retry once or twice
PAYMENT_TYPES = frozenset({"BillPayment", "BillPaymentCheck", "BillPaymentCreditCard", "VendorCredit"})

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
CREDIT_OR_BILL = frozenset({"Bill", "VendorCredit"})  # a negative bill is a VendorCredit (credits.py)


@dataclass(frozen=True)
class WriteResult:
    outcome: str
    record: ExternalRecord


def payload_hash(payload: dict[str, Any]) -> str:
    """Stable across runs: sorted keys, Decimal as its normalised string."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


class Writer:
    """Writes plans for one organisation to one QBO realm."""

    def __init__(self, organisation: Organisation, qbo: QBOClient) -> None:
        self.organisation = organisation
        self.qbo = qbo

    def write(
        self, object_type: str, procurify_id: str, plan: Plan, audit: RecordAudit, *, looked_up: bool = False
    ) -> WriteResult:
        """looked_up: the caller already searched QuickBooks for this create's marker and found nothing
        (a batch's lost-link queries, batch.py), so no lookup is repeated before the POST."""
        digest = payload_hash(plan.payload)
        record = ExternalRecord.objects.filter(
            organisation=self.organisation, object_type=object_type, procurify_id=str(procurify_id)
        ).first()
        if record is not None and record.realm_id and record.realm_id != self.qbo.realm_id:
            # Never update by an Id that belongs to another company (connector/sync/company.py).
            raise Permanent(
                "This record was written to another QuickBooks company. The next full sync starts this "
                "company fresh and writes it there.",
                code="other_company",
            )
        if record is None:
            record = self._start_create(object_type, procurify_id, plan, digest)
            if plan.entity != "Vendor" and not looked_up:
                # No local link: it may have been lost (a restore) while QBO kept the object.
                found = self._lookup(plan, audit, record, thorough=False)
                if found is not None:
                    self._adopt(record, found, plan, audit)
                    if not same_content(found, plan):
                        # Written before an edit we never sent (e.g. renumbered since): send today's once.
                        record.payload_hash = ""
                        record.save(update_fields=["payload_hash", "updated_at"])
        elif record.state == ExternalRecord.State.CREATING:
            audit(
                "decision", "A previous create did not finish; looking for it in QuickBooks before retrying."
            )
            found = self._lookup(plan, audit, record)
            if found is not None:
                self._adopt(record, found, plan, audit)
        if record.state == ExternalRecord.State.CREATING:
            return self._create(record, plan, digest, audit)
        if record.payload_hash == digest:
            audit("decision", "Unchanged since the last sync; nothing sent.", {"hash": digest})
            return WriteResult(UNCHANGED, record)
        return self._update(record, plan, digest, audit)

    # ---- create ---------------------------------------------------------------------------------

    def _start_create(self, object_type: str, procurify_id: str, plan: Plan, digest: str) -> ExternalRecord:
        # Committed before the POST, so a crash between POST and save leaves the request_id behind.
        with transaction.atomic():
            return ExternalRecord.objects.create(
                organisation=self.organisation,
                object_type=object_type,
                procurify_id=str(procurify_id),
                label=plan.label[:200],
                qbo_entity=plan.entity,
                realm_id=self.qbo.realm_id,
                request_id=uuid.uuid4().hex,
                pending_hash=digest,
                state=ExternalRecord.State.CREATING,
                extra={"attempt": attempt(plan)},
            )

    def begin_create(
        self, object_type: str, procurify_id: str, plan: Plan, audit: RecordAudit
    ) -> ExternalRecord:
        """The first half of a create whose marker was looked up already (a batch's lost-link queries):
        the "creating" row with its request id, committed, and the request's audit line. The POST
        may then go on another thread (connector/sync/lanes.py); finish_create settles its answer."""
        record = self._start_create(object_type, procurify_id, plan, payload_hash(plan.payload))
        audit("request", f"Create {plan.entity}", {"request_id": record.request_id, "body": plan.payload})
        return record

    def finish_create(
        self, record: ExternalRecord, plan: Plan, audit: RecordAudit, answer: Callable[[], Entity]
    ) -> WriteResult:
        """The second half: ``answer`` returns what QuickBooks created or raises what the POST raised."""
        return self._created(record, plan, payload_hash(plan.payload), audit, answer)

    def _create(self, record: ExternalRecord, plan: Plan, digest: str, audit: RecordAudit) -> WriteResult:
        if record.pending_hash != digest:
            # The payload changed since the first attempt; a new request_id, or QBO would replay the
            # old answer. Safe: the lookup above found nothing under the marker.
            record.request_id, record.pending_hash = uuid.uuid4().hex, digest
            record.extra = {**(record.extra or {}), "attempt": attempt(plan)}
            record.save(update_fields=["request_id", "pending_hash", "extra", "updated_at"])
        audit("request", f"Create {plan.entity}", {"request_id": record.request_id, "body": plan.payload})
        request_id = record.request_id
        return self._created(
            record,
            plan,
            digest,
            audit,
            lambda: self.qbo.create(plan.entity, plan.payload, request_id=request_id),
        )

    def _created(
        self, record: ExternalRecord, plan: Plan, digest: str, audit: RecordAudit, send: Callable[[], Entity]
    ) -> WriteResult:
        try:
            created = send()
        except Retryable:
            # Ambiguous: the write may have landed and only the answer was lost (QBO §12.8).
            found = self._lookup(plan, audit)
            if found is None:
                raise
            self._adopt(record, found, plan, audit)
            return self._finish_adopted(record, plan, digest, audit)
        except QBOFault as fault:
            audit("response", "QuickBooks refused the create.", {"fault": str(fault)})
            if fault.is_duplicate_request() or fault.is_duplicate_docnumber():
                # 600: this request already landed; 6140: the number is taken, perhaps by our own
                # earlier write whose link we lost. Either way: find ours and adopt it.
                found = self._lookup(plan, audit, record)
                if found is not None:
                    self._adopt(record, found, plan, audit)
                    return self._finish_adopted(record, plan, digest, audit)
            # A definite refusal wrote nothing: a fresh request_id next time, or QBO would replay
            # this refusal even after the cause is fixed.
            record.request_id = uuid.uuid4().hex
            record.save(update_fields=["request_id", "updated_at"])
            raise self._held(fault, plan) from fault
        audit(
            "response",
            f"Created {plan.entity} {created.Id}",
            {"Id": created.Id, "SyncToken": created.SyncToken},
        )
        self._store(record, created, digest, plan)
        return WriteResult(CREATED, record)

    def _finish_adopted(
        self, record: ExternalRecord, plan: Plan, digest: str, audit: RecordAudit
    ) -> WriteResult:
        if record.payload_hash == digest:
            return WriteResult(CREATED, record)
        return self._update(record, plan, digest, audit)

    def _adopt(self, record: ExternalRecord, found: Entity, plan: Plan, audit: RecordAudit) -> None:
        audit("decision", f"Found {record.qbo_entity} {found.Id} already in QuickBooks; adopting it.")
        record.qbo_id, record.sync_token = str(found.Id), str(found.SyncToken)
        record.extra = {**(record.extra or {}), **remembered(found, plan)}
        # Only the payload we POSTed carries the marker, so the adopted object has pending_hash's content.
        record.payload_hash, record.state = record.pending_hash, ExternalRecord.State.SYNCED
        record.last_synced_at = timezone.now()
        record.save()

    def find(self, plan: Plan, audit: RecordAudit, record: ExternalRecord | None = None) -> Entity | None:
        """Our object by its marker, the thorough way (connector/sync/sign_flip.py uses it)."""
        return self._lookup(plan, audit, record)

    def _lookup(
        self, plan: Plan, audit: RecordAudit, record: ExternalRecord | None = None, *, thorough: bool = True
    ) -> Entity | None:
        """Find an object we created by our marker (docs/qbo-facts.md), looking where it can be: under the
        vendor and number the create attempt sent (the bill may have been renumbered since), under
        today's, and finally among all of the vendor's objects, since PrivateNote is not filterable."""
        if plan.entity == "Vendor":
            where = [q.eq("DisplayName", plan.payload["DisplayName"]), q.active_any()]
            rows = list(self.qbo.query_all("Vendor", where))
            return rows[0] if rows else None
        sent = (record.extra or {}).get("attempt") if record else None
        for conditions in _lookup_keys(plan, sent, thorough=thorough):
            for row in self.qbo.query_all(plan.entity, conditions):
                if plan.marker and plan.marker in (getattr(row, "PrivateNote", None) or ""):
                    audit("read", f"Lookup found {plan.entity} {row.Id} by marker {plan.marker}.")
                    return row
        audit("read", f"Lookup found no {plan.entity} with marker {plan.marker}.")
        return None

    # ---- update ---------------------------------------------------------------------------------

    def _update(self, record: ExternalRecord, plan: Plan, digest: str, audit: RecordAudit) -> WriteResult:
        sync_token = record.sync_token
        for attempt in range(MAX_STALE_RETRIES + 1):
            body = {"Id": record.qbo_id, "SyncToken": sync_token, **plan.payload}
            audit("request", f"Update {plan.entity} {record.qbo_id}", {"attempt": attempt + 1, "body": body})
            try:
                updated = self.qbo.update(plan.entity, body, request_id=uuid.uuid4().hex, sparse=True)
            except QBOFault as fault:
                audit("response", "QuickBooks refused the update.", {"fault": str(fault)})
                if not fault.is_stale_object():
                    raise self._held(fault, plan) from fault
                sync_token = self._reread(record, plan, audit)
                continue
            audit("response", f"Updated {plan.entity} {updated.Id}", {"SyncToken": updated.SyncToken})
            self._store(record, updated, digest, plan)
            return WriteResult(UPDATED, record)
        raise Held("stale_sync_token_exhausted", bill=plan.label)

    def _reread(self, record: ExternalRecord, plan: Plan, audit: RecordAudit) -> str:
        """After 5010: read by Id (never trust a query's token, §12.12) and check it is still ours."""
        fresh = self.qbo.read(plan.entity, record.qbo_id)
        audit(
            "read",
            f"Re-read {plan.entity} {record.qbo_id} after a stale SyncToken.",
            {"SyncToken": fresh.SyncToken},
        )
        if plan.entity in CREDIT_OR_BILL and is_locked(fresh):
            raise Held("bill_paid_in_qbo", bill=plan.label)
        conflict = changed_by_someone(record, fresh.body(), plan, payload_hash(plan.payload))
        if conflict is not None:
            raise conflict  # a person's change in QuickBooks is never overwritten silently
        return str(fresh.SyncToken)

    def _store(self, record: ExternalRecord, entity: Entity, digest: str, plan: Plan) -> None:
        self.stamp(record, entity, digest, plan)
        record.save()

    def stamp(self, record: ExternalRecord, entity: Entity, digest: str, plan: Plan) -> None:
        """Copy what QBO answered onto the row (not saved: the batch path saves a chunk at once)."""
        record.qbo_id, record.sync_token = str(entity.Id), str(entity.SyncToken)
        record.payload_hash, record.pending_hash = digest, ""
        record.state, record.last_synced_at = ExternalRecord.State.SYNCED, timezone.now()
        record.updated_at = record.last_synced_at
        record.extra = {**(record.extra or {}), **remembered(entity, plan)}

    # ---- what the batch path (connector.sync.batch) shares with single writes -------------------

    def refused(self, record: ExternalRecord, fault: QBOFault, plan: Plan, *, create: bool) -> Held:
        """A definite per-item refusal: the same hold a single write earns (held_for_fault)."""
        if create:
            # As in _create: a fresh request_id, or a retry would be answered with this refusal.
            record.request_id = uuid.uuid4().hex
            record.save(update_fields=["request_id", "updated_at"])
        return self._held(fault, plan)

    def retry_stale(self, record: ExternalRecord, plan: Plan, digest: str, audit: RecordAudit) -> WriteResult:
        """A batch update answered 5010: the single-write path from the re-read on (bounded retries)."""
        record.sync_token = self._reread(record, plan, audit)
        return self._update(record, plan, digest, audit)

    def _held(self, fault: QBOFault, plan: Plan) -> Held:
        held = held_for_fault(fault, plan)
        # Remembered so an unchanged record is not re-sent to earn the same refusal (holds.refused_recently).
        held.params["payload_hash"] = payload_hash(plan.payload)
        return held


def same_content(found: Entity, plan: Plan) -> bool:
    """What a reader of the books sees agrees: vendor, number, dates, currency and total. Lets an object
    adopted without its link be left alone when nothing changed since it was written."""
    body, payload = found.body(), plan.payload
    for key in ("DocNumber", "TxnDate", "DueDate"):
        if str(body.get(key) or "") != str(payload.get(key) or ""):
            return False
    for key in ("VendorRef", "CurrencyRef"):
        if key in payload and (body.get(key) or {}).get("value") != payload[key]["value"]:
            return False
    total = sum((Decimal(str(line["Amount"])) for line in payload.get("Line") or []), Decimal(0))
    if plan.total is not None:  # QuickBooks adds the tax of non-US lines itself (tax.py)
        total = plan.total
    return Decimal(str(body.get("TotalAmt", "NaN"))) == total


def attempt(plan: Plan) -> dict[str, Any]:
    """What a create attempt sent that can find it again (vendor and number), kept on the row."""
    return {"vendor": plan.vendor_id, "doc_number": plan.doc_number}


def _lookup_keys(plan: Plan, sent: dict[str, Any] | None, *, thorough: bool) -> list[list[str]]:
    keys: list[tuple[str, str | None]] = []
    if sent and sent.get("vendor"):
        keys.append((str(sent["vendor"]), sent.get("doc_number")))
    keys.append((plan.vendor_id, plan.doc_number))
    out: list[list[str]] = []
    for vendor, number in dict.fromkeys(keys):
        if number:
            out.append([q.eq("VendorRef", vendor), q.eq("DocNumber", number)])
    if plan.payload.get("TxnDate"):
        # A bill renumbered since its link was lost still has its vendor and date.
        out.append([q.eq("VendorRef", plan.vendor_id), q.eq("TxnDate", str(plan.payload["TxnDate"]))])
    # Last resort for an uncertain create, when nothing narrower matched: every object of the vendor(s).
    if thorough or not out:
        out.extend([q.eq("VendorRef", vendor)] for vendor in dict.fromkeys(v for v, _ in keys))
    return out


def held_for_fault(fault: Permanent, plan: Plan) -> Held:
    """A refused write becomes a hold with a sentence the finance user understands."""
    if isinstance(fault, QBOFault):
        if fault.is_period_closed():
            return Held("period_closed", date=plan.payload.get("TxnDate", "?"))
        if fault.is_duplicate_docnumber():
            return Held("duplicate_docnumber", doc_number=plan.doc_number or "")
        if fault.is_duplicate_name():
            key = ("vendor_mapping", plan.marker) if plan.entity == "Vendor" else ("", "")
            return Held(
                "duplicate_vendor_name", waiting_on=key, vendor=plan.payload.get("DisplayName", plan.label)
            )
        if fault.is_inactive_reference():
            return Held(
                "qbo_validation", detail="a vendor or account it uses was made inactive in QuickBooks."
            )
    return Held("qbo_validation", detail=fault.message)


def is_locked(bill: Entity) -> bool:
    """Paid or part-paid in QBO: Balance below TotalAmt, or a payment linked (issue 5, item 3)."""
    data = bill.body()
    total, balance = data.get("TotalAmt"), data.get("Balance")
    if total is not None and balance is not None and Decimal(str(balance)) < Decimal(str(total)):
        return True
    return any(link.get("TxnType") in PAYMENT_TYPES for link in data.get("LinkedTxn") or [])


def written_amount(body: dict[str, Any], plan: Plan) -> dict[str, str]:
    """What we sent, for the reconciliation: the lines' sum (QuickBooks' TotalAmt of our payload) and
    the currency QuickBooks booked it in (its answer names it; without multicurrency, the home one)."""
    total = sum((Decimal(str(line["Amount"])) for line in plan.payload.get("Line") or []), Decimal(0))
    currency = (body.get("CurrencyRef") or plan.payload.get("CurrencyRef") or {}).get("value") or ""
    return {"written_total": format(total, "f"), "written_currency": str(currency)}


def remembered(entity: Entity, plan: Plan) -> dict[str, Any]:
    """What later writes need from QBO's answer: a bill's exchange rate (kept on edits) and a
    purchase order's line Ids by Procurify order item (bill lines link to them)."""
    body = entity.body()
    kept: dict[str, Any] = {WRITTEN: written(body, plan.payload)}  # what drift is diffed against
    if plan.entity in CREDIT_OR_BILL:
        rate = body.get("ExchangeRate")
        return {
            **kept,
            **({"exchange_rate": str(rate)} if rate is not None else {}),
            **written_amount(body, plan),
        }
    if plan.entity != "PurchaseOrder":
        return kept
    # QBO answers the lines in the order sent (LineNum); line_keys are the order items in that order.
    ids = [
        str(line.get("Id") or "")
        for line in body.get("Line") or []
        if line.get("DetailType") != "SubTotalLineDetail"
    ]
    return {
        **kept,
        "line_ids_by_order_item": {key: i for key, i in zip(plan.line_keys, ids, strict=False) if i},
    }
