"""The values the transforms pass around: a hold that says what it waits on, mapped QuickBooks objects,
the two companies' books, the mappings of a run and the plan of one write.

Below transform.py and the rules it calls (tax.py, dimensions.py, closed_books.py), so they share these
without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from connector.errors import RecordHeld
from connector.hold_reasons import sentence
from connector.sync import closed_books

CENT = Decimal("0.01")


class Held(RecordHeld):
    """A hold that also says what it waits on, so fixing that thing releases it."""

    def __init__(self, reason_code: str, /, *, waiting_on: tuple[str, str] = ("", ""), **params: Any) -> None:
        super().__init__(reason_code, sentence(reason_code, **params), detail=params or None)
        self.params = params
        self.waiting_on_type, self.waiting_on_key = waiting_on


@dataclass(frozen=True)
class Ref:
    """A mapped QBO object: its Id, a display name, whether QBO has it active, and (vendors) the
    currency QBO fixed for it ("" when unknown)."""

    qbo_id: str
    name: str
    active: bool = True
    currency: str = ""


@dataclass(frozen=True)
class POLink:
    """A PurchaseOrder already in QBO: its Id and its QBO line Ids by Procurify order item id, so a
    bill line links to the PO line it was billed from (Bill LinkedTxn)."""

    qbo_id: str
    line_ids_by_order_item: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Books:
    """What both companies say about their currencies, read with the reference data every run.

    home_currency "" means QuickBooks has not been read yet: then nothing is written (never a guess).
    """

    home_currency: str = ""
    multicurrency: bool = False
    warn_duplicate_bill_number: bool | None = None
    procurify_base: str = ""
    payables: Mapping[str, str] = field(default_factory=dict)  # currency → QBO A/P account Id
    # Non-US tax on every line; class tracking "", "transaction" or "line"; locations (tax.py, dimensions.py).
    line_tax: bool = False
    class_tracking: str = ""
    track_locations: bool = False
    book_close_date: date | None = None  # Preferences.AccountingInfoPrefs.BookCloseDate
    closed_period_policy: str = closed_books.HOLD  # the organisation's choice (closed_books.py)

    @property
    def base_mismatch(self) -> bool:
        return bool(self.procurify_base and self.home_currency and self.procurify_base != self.home_currency)


@dataclass(frozen=True)
class Mappings:
    vendors: Mapping[int, Ref] = field(default_factory=dict)  # Procurify vendor id → QBO vendor
    accounts: Mapping[int, Ref] = field(default_factory=dict)  # Procurify account code id → QBO account
    terms: Mapping[str, str] = field(default_factory=dict)  # lower-case term name → QBO Term Id
    purchase_orders: Mapping[str, POLink] = field(default_factory=dict)  # Procurify PO uuid → QBO PO
    time_zone: str = "UTC"
    books: Books = field(default_factory=Books)
    tax_codes: Mapping[str, Any] = field(default_factory=dict)  # tax.tax_key → tax.TaxCode
    dimensions: Any = None  # dimensions.Dimensions: classes and locations, when the organisation uses them


@dataclass(frozen=True)
class Plan:
    """What to write: the QBO payload plus what the writer needs to find it again."""

    entity: str
    payload: dict[str, Any]
    label: str
    marker: str
    vendor_id: str
    doc_number: str | None
    # Procurify order item ids in line order (purchase orders), so QBO's line Ids can be kept by them.
    line_keys: tuple[str, ...] = ()
    # The TotalAmt QuickBooks will show when it differs from the lines' sum (tax added on top, tax.py).
    total: Decimal | None = None


def bill_label(bill: Any) -> str:
    number = getattr(bill, "invoice_number", None) or f"#{bill.id}"
    vendor = getattr(getattr(bill, "vendor", None), "name", None)
    return f"Bill {number}" + (f" from {vendor}" if vendor else "")
