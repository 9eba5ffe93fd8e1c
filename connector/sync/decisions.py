"""What to do with one record, decided without a database or HTTP: skip it, hold it, or write it.

``records.py`` reads the Procurify document and what we hold of its QuickBooks copy (a ``Link``),
asks ``decide_*`` here, and carries the ``Decision`` out (audit, holds, the write sink, counts).
Everything here is a function of its arguments, so every branch is a unit test
(tests/engine/test_record_decisions.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.hold_reasons import ReasonCode
from connector.kinds import RecordKind
from connector.procurify.schemas import Bill, PurchaseOrder
from connector.sync import credits
from connector.sync.transform import (
    PO_CANCELLED,
    SYNC_STATUSES,
    VOID_STATUSES,
    Held,
    Mappings,
    Plan,
)
from connector.sync.writers import payload_hash

SKIPPED, HELD = "skipped", "held"


@dataclass(frozen=True)
class Skip:
    """Nothing is written. ``reason`` is the audit sentence."""

    reason: str
    outcome: str = SKIPPED  # HELD: unchanged since QuickBooks refused it, its hold stays as it is
    resolve: bool = False  # nothing is left to do: the record's open hold is resolved


@dataclass(frozen=True)
class Hold:
    """A person (or a fix elsewhere) must act first; ``waits_on`` is what releases it when fixed."""

    reason_code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    waits_on: tuple[str, str] = ("", "")

    def held(self) -> Held:
        return Held(self.reason_code, waiting_on=self.waits_on, **self.params)

    @classmethod
    def of(cls, exc: Held) -> Hold:
        return cls(exc.reason_code, dict(exc.params), (exc.waiting_on_type, exc.waiting_on_key))


@dataclass(frozen=True)
class Write:
    """Send ``plan`` as an ExternalRecord of type ``kind`` (bill, vendor_credit, purchase_order)."""

    kind: str
    plan: Plan
    create: bool  # no QuickBooks copy of this kind yet (else a sparse update, or nothing if unchanged)
    retire: bool = False  # the bill changed sign: its copy of the other kind is deleted first (sign_flip)
    refused: bool = False  # QuickBooks refused exactly this payload within the cooldown: not sent again


Decision = Skip | Hold | Write


@dataclass(frozen=True)
class Link:
    """What we hold of a record's QuickBooks copies (ExternalRecord rows), by type."""

    written: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # type → extra, rows with an Id
    kinds: frozenset[str] = frozenset()  # types with a row in any state
    label: str = ""  # the label the first write stored
    refused_hashes: frozenset[str] = frozenset()  # payloads QuickBooks refused within the cooldown

    @property
    def in_qbo(self) -> bool:
        return bool(self.written)

    def exchange_rate(self, kind: str) -> Decimal | None:
        """The exchange rate QuickBooks holds for this record from an earlier write, if any."""
        rate = (self.written.get(kind) or {}).get("exchange_rate")
        try:
            return Decimal(rate) if rate else None
        except InvalidOperation:
            return None


BillPlanner = Callable[..., Plan]  # credits.plan_for(bill, mappings, previous_rate=...)
POPlanner = Callable[[PurchaseOrder, Mappings], Plan]


def syncable(bill: Bill) -> bool:
    """Approved and not voided: a bill we write (or hold trying)."""
    return bill.status in SYNC_STATUSES and bill.status not in VOID_STATUSES and bill.active is not False


def decide_bill(bill: Bill, link: Link, mappings: Mappings, plan_for: BillPlanner) -> Decision:
    label = credits.label(bill)
    if bill.status in VOID_STATUSES or bill.active is False:
        if not link.in_qbo:
            return Skip("Voided or withdrawn before it reached QuickBooks; nothing to do.", resolve=True)
        # Never delete silently: a person decides what happens to the QuickBooks bill.
        return Hold(ReasonCode.BILL_VOIDED_IN_PROCURIFY, {"bill": label})
    if bill.status not in SYNC_STATUSES:
        if link.in_qbo:
            # Sent back to draft or for approval after it was written: a person decides (issue 11).
            return Hold(ReasonCode.BILL_UNAPPROVED_AFTER_SYNC, {"bill": label})
        return Skip(f"Status {bill.status} is not approved yet; not synced.")
    kind = credits.link_type(bill)  # a Bill, or a VendorCredit when the total is negative
    try:
        plan = plan_for(bill, mappings, previous_rate=link.exchange_rate(kind))
    except Held as exc:
        return Hold.of(exc)
    other = RecordKind.VENDOR_CREDIT if kind == RecordKind.BILL else RecordKind.BILL
    return _write(kind, plan, link, retire=other in link.kinds)


def decide_removed_bill(link: Link) -> Decision:
    """Procurify answers 404 for a bill it listed before."""
    if not link.in_qbo:
        return Skip("Procurify no longer has this bill and it never reached QuickBooks.", resolve=True)
    return Hold(ReasonCode.BILL_REMOVED_IN_PROCURIFY, {"bill": link.label})


def decide_purchase_order(
    po: PurchaseOrder, link: Link, mappings: Mappings, plan_for: POPlanner, kind: str
) -> Decision:
    if po.state == PO_CANCELLED and not link.in_qbo:
        # A cancelled PO is never written; one cancelled after it was written is closed (po_plan).
        return Skip("Cancelled in Procurify before it reached QuickBooks; not written.", resolve=True)
    try:
        plan = plan_for(po, mappings)
    except Held as exc:
        return Hold.of(exc)
    return _write(kind, plan, link)


def _write(kind: str, plan: Plan, link: Link, *, retire: bool = False) -> Write:
    refused = payload_hash(plan.payload) in link.refused_hashes
    return Write(kind, plan, create=kind not in link.written, retire=retire, refused=refused)
