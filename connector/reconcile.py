"""The reconciliation, as pure computation: Procurify's approved bills, what we wrote, what QuickBooks
holds now, per vendor, month and currency, with every difference explained by its documents.

Inputs are plain values (connector/reconcile_service.py gathers them); amounts are Decimal throughout
and never added across currencies. For each document:

    difference = approved in Procurify - in QuickBooks now

and the document is classified by why the two differ (or "matched"):

- held: an open hold explains it (its sentence is the reason);
- not_synced: approved but not written yet, or changed in Procurify since it was written;
- changed_in_qbo: QuickBooks' total is not what we wrote (edited there);
- deleted_in_qbo: we wrote it, QuickBooks no longer has it;
- not_approved: written, but no longer approved in Procurify (removed, withdrawn, sent back) and not held.

A row's difference is the sum of its documents' differences, so the documents listed under a row add up
to it to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

MATCHED, HELD, NOT_SYNCED = "matched", "held", "not_synced"
CHANGED_IN_QBO, DELETED_IN_QBO, NOT_APPROVED = "changed_in_qbo", "deleted_in_qbo", "not_approved"
KIND_TITLES = {
    HELD: "Held",
    NOT_SYNCED: "Not yet synced",
    CHANGED_IN_QBO: "Changed in QuickBooks",
    DELETED_IN_QBO: "Deleted in QuickBooks",
    NOT_APPROVED: "No longer approved in Procurify",
    MATCHED: "Matches",
}


@dataclass(frozen=True)
class ProcurifyBill:
    procurify_id: str
    vendor: str
    number: str
    bill_date: date | None
    currency: str
    total: Decimal | None  # None: Procurify gave no total
    approved: bool


@dataclass(frozen=True)
class Written:
    """Our link: the QuickBooks Id and what we sent (None: written before amounts were remembered)."""

    procurify_id: str
    qbo_id: str
    total: Decimal | None
    currency: str


@dataclass(frozen=True)
class InQBO:
    qbo_id: str
    total: Decimal
    balance: Decimal | None
    currency: str
    doc_number: str


@dataclass(frozen=True)
class Hold:
    reason_code: str
    message: str


@dataclass(frozen=True)
class Document:
    procurify_id: str
    vendor: str
    number: str
    month: str  # "2026-03", or "" when the date is unknown
    currency: str
    approved: Decimal
    written: Decimal
    in_qbo: Decimal
    qbo_id: str
    kind: str
    reason: str

    @property
    def difference(self) -> Decimal:
        return self.approved - self.in_qbo

    @property
    def kind_title(self) -> str:
        return KIND_TITLES[self.kind]


@dataclass
class Row:
    vendor: str
    month: str
    currency: str
    approved: Decimal = ZERO
    written: Decimal = ZERO
    in_qbo: Decimal = ZERO
    documents: list[Document] = field(default_factory=list)  # those that explain the difference

    @property
    def difference(self) -> Decimal:
        return self.approved - self.in_qbo

    def add(self, doc: Document) -> None:
        self.approved += doc.approved
        self.written += doc.written
        self.in_qbo += doc.in_qbo
        if doc.kind != MATCHED:
            self.documents.append(doc)


@dataclass
class Reconciliation:
    rows: list[Row]
    totals: list[Row]  # one per currency: the grand totals
    not_in_qbo: list[Document]  # approved in Procurify, not in QuickBooks
    documents: list[Document]
    qbo_reads: int = 0

    def by_kind(self) -> dict[str, list[Document]]:
        out: dict[str, list[Document]] = {}
        for doc in self.documents:
            if doc.kind != MATCHED:
                out.setdefault(doc.kind, []).append(doc)
        return out


def classify(
    bill: ProcurifyBill, written: Written | None, in_qbo: InQBO | None, hold: Hold | None
) -> tuple[str, str]:
    """(kind, reason) for one document; the reason is a sentence a finance user can act on."""
    approved = bill.total if bill.approved and bill.total is not None else ZERO
    if hold is not None:
        return HELD, hold.message
    if written is not None and in_qbo is None:
        return DELETED_IN_QBO, f"QuickBooks no longer has bill {written.qbo_id}, which we wrote."
    if bill.approved and written is None:
        return NOT_SYNCED, "Approved in Procurify; the next sync writes it."
    if not bill.approved and written is not None:
        return NOT_APPROVED, "No longer approved in Procurify, but still in QuickBooks."
    if written is not None and in_qbo is not None:
        if written.total is not None and in_qbo.total != written.total:
            return (
                CHANGED_IN_QBO,
                f"QuickBooks shows {in_qbo.total} {in_qbo.currency}; we wrote {written.total}.",
            )
        if in_qbo.currency != bill.currency and bill.approved:
            return CHANGED_IN_QBO, f"QuickBooks holds it in {in_qbo.currency}, Procurify in {bill.currency}."
        if approved != in_qbo.total:
            return NOT_SYNCED, "Changed in Procurify since it was written; the next sync updates it."
    return MATCHED, ""


def reconcile(
    bills: Iterable[ProcurifyBill],
    written: Mapping[str, Written],
    in_qbo: Mapping[str, InQBO],
    holds: Mapping[str, Hold],
    *,
    qbo_reads: int = 0,
) -> Reconciliation:
    """bills: every Procurify bill that is approved or that we wrote; written/holds by Procurify id;
    in_qbo by QuickBooks Id (what a query by our links' Ids returned)."""
    documents: list[Document] = []
    for bill in bills:
        link = written.get(bill.procurify_id)
        qbo = in_qbo.get(link.qbo_id) if link else None
        hold = holds.get(bill.procurify_id)
        if not bill.approved and link is None:
            continue  # neither approved nor written: not part of the books
        kind, reason = classify(bill, link, qbo, hold)
        documents.append(
            Document(
                procurify_id=bill.procurify_id,
                vendor=bill.vendor,
                number=bill.number,
                month=bill.bill_date.strftime("%Y-%m") if bill.bill_date else "",
                currency=bill.currency,
                approved=_cents(bill.total) if bill.approved and bill.total is not None else ZERO,
                written=_cents(link.total) if link and link.total is not None else ZERO,
                in_qbo=_cents(qbo.total) if qbo else ZERO,
                qbo_id=link.qbo_id if link else "",
                kind=kind,
                reason=reason,
            )
        )
    rows: dict[tuple[str, str, str], Row] = {}
    totals: dict[str, Row] = {}
    for doc in sorted(documents, key=lambda d: (d.vendor.casefold(), d.month, d.currency, d.number)):
        rows.setdefault((doc.vendor, doc.month, doc.currency), Row(doc.vendor, doc.month, doc.currency)).add(
            doc
        )
        totals.setdefault(doc.currency, Row("All vendors", "All months", doc.currency)).add(doc)
    not_in_qbo = [d for d in documents if d.approved and not d.in_qbo]
    return Reconciliation(
        rows=list(rows.values()),
        totals=[totals[c] for c in sorted(totals)],
        not_in_qbo=sorted(not_in_qbo, key=lambda d: (d.vendor.casefold(), d.number)),
        documents=documents,
        qbo_reads=qbo_reads,
    )


def _cents(value: Decimal) -> Decimal:
    # Procurify and QuickBooks both keep two places; a third non-zero place would be a surprise we
    # want to see, so quantize only when exact.
    quantized = value.quantize(CENT)
    return quantized if quantized == value else value
