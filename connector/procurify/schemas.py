"""Pydantic models for Procurify payloads (procurify.md §3), validated at the edge.

Money is Decimal everywhere: allocations and rates arrive as decimal strings, bill totals as
JSON numbers (the client decodes those with ``parse_float=Decimal`` so no float ever appears).
Unknown fields are ignored; nullable-looking fields are optional because the spec publishes no
required list and the examples show nulls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from connector.errors import RecordHeld

# NaN/Infinity are not money; reject them so a bad amount becomes a MalformedRecord. Amounts of a
# quadrillion or more are not money either, and would overflow Decimal's 28 digits once in cents.
MONEY_LIMIT = Decimal("1e15")
Money = Annotated[Decimal, Field(allow_inf_nan=False, gt=-MONEY_LIMIT, lt=MONEY_LIMIT)]
# Bill/PO uuids go into request paths and hold keys (64 chars): letters, digits and dashes only.
RecordUuid = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z-]{1,64}$")]
# Postgres text and JSON cannot hold NUL, and lone surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ProcurifyModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise ValueError("text contains a NUL character or broken Unicode that cannot be stored")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _plausible_date(cls, value: Any) -> Any:
        # Year 1 or 9999 with an offset overflows when moved to the company's time zone.
        if isinstance(value, datetime) and not 1900 <= value.year <= 2999:
            raise ValueError(f"the date {value.isoformat()} is outside the years 1900-2999")
        return value


class Pagination(ProcurifyModel):
    count: int | None = None
    next: str | None = None
    previous: str | None = None
    page_size: int | None = None
    num_pages: int | None = None
    current_page: int | None = None


class Currency(ProcurifyModel):
    id: int | None = None
    name: str
    description: str | None = None
    rate: Money | None = None
    base: bool | None = None
    active: bool | None = None


class PaymentTermRef(ProcurifyModel):
    id: int
    name: str
    description: str | None = None
    active: bool | None = None


class Vendor(ProcurifyModel):
    id: int
    name: str
    active: bool = True
    type: int | None = None
    external_id: str | None = None
    date_modified: datetime | None = Field(default=None, alias="dateModified")
    address_line_one: str | None = Field(default=None, alias="addressLineOne")
    address_line_two: str | None = Field(default=None, alias="addressLineTwo")
    city: str | None = None
    state_province: str | None = None
    postal_code: str | None = Field(default=None, alias="postalCode")
    country: str | None = None
    phone_one: str | None = Field(default=None, alias="phoneOne")
    email: list[str] | None = None
    contact: str | None = None
    url: str | None = None
    currency: int | None = None
    payment_term_ref: PaymentTermRef | None = None
    is_1099_eligible: bool | None = None


class VendorRef(ProcurifyModel):
    """The vendor as embedded in bills and POs (may be the short {id, name} form)."""

    id: int
    name: str
    active: bool | None = None
    external_id: str | None = None
    type: int | None = None


class AccountCode(ProcurifyModel):
    id: int
    code: str
    description: str | None = None
    account_type: int | None = None
    active: bool = True
    parent: int | None = None


class Branch(ProcurifyModel):
    id: int
    name: str
    headquarter: bool | None = None


class Department(ProcurifyModel):
    id: int
    name: str
    external_id: str | None = None
    active: bool = True
    branch: Branch | None = None


class Budget(ProcurifyModel):
    """Procurify's "Account": one account code x department (procurify.md §3, GL coding)."""

    id: int | None = None
    active: bool | None = None
    account_code: AccountCode
    department: Department | None = None


class CostAllocation(ProcurifyModel):
    id: int
    amount: Money
    currency: Currency | None = None
    budget: Budget | None = None


class PORef(ProcurifyModel):
    id: int
    number: str | None = None
    uuid: str | None = None


class BillItem(ProcurifyModel):
    id: int
    description: str | None = None
    sku: str | None = None
    unit: str | None = None
    quantity: Money | None = None
    unit_cost: Money | None = None
    total_cost: Money | None = None
    tax_name: str | None = None
    tax_percentage: Money | None = None
    tax_amount: Money | None = None
    tax_is_inclusive: bool | None = None
    total_cost_with_tax: Money | None = None
    shipping_amount: Money | None = None
    po: PORef | None = None
    orderitem: int | dict[str, Any] | None = None  # the PO line billed (an id; tolerated as {"id": …})
    cost_allocations: list[CostAllocation] = Field(default_factory=list)

    @property
    def order_item_id(self) -> int | None:
        if isinstance(self.orderitem, dict):
            value = self.orderitem.get("id")
            return value if isinstance(value, int) else None
        return self.orderitem


class BillCost(ProcurifyModel):
    id: int
    name: str | None = None
    amount: Money
    cost_allocation: Any = None
    currency: Currency | None = None


class AddedPurchaseOrder(ProcurifyModel):
    id: int
    number: str | None = None
    currency: str | None = None
    total_amount: Money | None = None


class BillSummary(ProcurifyModel):
    """A row of the bills list (SimpleBill); ``items`` holds only item ids."""

    id: int
    uuid: RecordUuid
    version: int | None = None
    status: int
    type: int | None = None
    invoice_number: str | None = None
    last_modified_datetime: datetime
    vendor: VendorRef | None = None
    currency: Currency | None = None
    total_cost_with_tax: Money | None = None
    items: list[int] = Field(default_factory=list)
    group: int | None = None  # the bill group a payment names in bill_groups


class Bill(ProcurifyModel):
    """Bill detail (BillRead). Status 2 = Approved, 4 = Paid (procurify.md §3)."""

    id: int
    uuid: RecordUuid
    version: int | None = None
    status: int
    type: int | None = None
    active: bool | None = None
    invoice_number: str | None = None
    invoice_date: datetime | None = None
    due_date: datetime | None = None
    submitted_date: datetime | None = None
    gl_post_date: datetime | None = None
    last_modified_datetime: datetime
    payment_terms: str | None = None
    note: str | None = None
    vendor: VendorRef
    vendor_name: str | None = None
    currency: Currency
    subtotal_cost: Money | None = None
    shipping_amount: Money | None = None
    tax_amount: Money | None = None
    total_cost: Money | None = None
    total_cost_with_tax: Money | None = None
    converted_total_cost: Money | None = None
    items: list[BillItem] = Field(default_factory=list)
    costs: list[BillCost] = Field(default_factory=list)
    added_purchase_orders: list[AddedPurchaseOrder] = Field(default_factory=list)
    # Raw on purpose: an unreadable file entry must hold that file (connector/sync/attachments.py),
    # never the bill. Shape: docs/procurify-facts.md.
    invoice_attachments: list[Any] | None = None


class Adjustment(ProcurifyModel):
    """PO tax/discount: ``{"type": "amount"|"percentage", "value": n}``."""

    type: str | None = None
    value: Money | None = None


class OrderItem(ProcurifyModel):
    id: int
    po_line_num: int | None = Field(default=None, alias="PO_line_num")
    name: str | None = None
    sku: str | None = None
    unit: str | None = None
    quantity: Money | None = None
    price: Money | None = None
    approved_quantity: Money | None = None
    approved_price: Money | None = None
    total_cost: Money | None = None
    tax_amount: Money | None = None
    shipping_amount: Money | None = None
    account: Budget | None = None
    last_modified: datetime | None = None


class PurchaseOrder(ProcurifyModel):
    """PO list row or detail; ``order_items`` is only filled on the detail endpoint."""

    uuid: RecordUuid
    number: str
    procurify_po: int | None = Field(default=None, alias="procurify_PO")
    po_num: str | None = Field(default=None, alias="PO_Num")
    version: int | None = None
    state: int | None = None
    fulfilment_status: str | None = None
    date: datetime | None = None
    last_modified: datetime | None = None
    pref_vendor: VendorRef | None = None
    payment_terms: str | None = None
    subtotal: Money | None = None
    freight: Money | None = None
    tax: Adjustment | None = None
    discount: Adjustment | None = None
    other: Money | None = None
    total: Money | None = None
    purchased_currency: Currency | None = None
    item_count: int | None = None
    order_items: list[OrderItem] = Field(default_factory=list)


@dataclass(frozen=True)
class MalformedRecord:
    """A record that failed validation; iteration goes on and the engine holds it."""

    raw: Any
    error: str
    record_id: str | None = None

    def held(self, kind: str = "a record") -> RecordHeld:
        label = f"{kind} {self.record_id}" if self.record_id else kind
        return RecordHeld.because("malformed_record", record=label, error=self.error)


class PaymentCurrency(ProcurifyModel):
    id: int | None = None
    name: str


class Payment(ProcurifyModel):
    """A payment of the public/v1 list (PaymentResponse, procurify.md §3 and §7; docs/procurify-facts.md)."""

    id: int
    uuid: RecordUuid
    amount: Money
    currency: PaymentCurrency
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime
    processing_date: str | None = None  # the spec gives no format
    posted_date: date | None = None
    vendor_name: str | None = None
    payment_source_type: str | None = None  # direct_debit | financial_account | external
    payment_source_name: str | None = None
    vendor_payment_method_rail: str | None = None  # ACH, FEDWIRE, PAPER_CHECK, LOCAL, …
    bill_groups: list[int] = Field(default_factory=list)
