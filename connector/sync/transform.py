"""Pure functions: a Procurify record plus the mappings → a QBO payload, or a hold with a reason.

No database, no HTTP: everything the transform needs arrives in a `Mappings` value, so every
rule here is testable with plain objects. Amounts stay Decimal until the QBO client serialises.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.errors import RecordHeld, reason_sentence
from connector.procurify.schemas import MONEY_LIMIT, Bill, BillItem, CostAllocation, PurchaseOrder

CENT = Decimal("0.01")
DOC_NUMBER_MAX = 21  # QBO Transaction.DocNumber max (quickbooks-online.md §3 Bill)
# Procurify bill status (procurify.md §3): 2 Approved, 4 Paid, 6 Payment Confirmed, 7 Payment Approved.
SYNC_STATUSES = frozenset({2, 4, 6, 7})
# 3 Denied, 5 Withdrawn: a bill that reached QBO and then went this way needs a person.
VOID_STATUSES = frozenset({3, 5})
# PO state (procurify.md §3): 0 Purchased, 1 Cancelled, 3 Closed, 4 Paid, 5 Reopened, 2 legacy.
PO_OPEN_STATES = frozenset({0, 2, 5})


# Engine-only reasons, next to the shared ones in connector/errors.py (REASONS).
EXTRA_REASONS: dict[str, str] = {
    "sync_failed": "We could not sync this record: {detail} It will be retried on the next run.",
    "bill_removed_in_procurify": (
        "Bill '{bill}' was deleted in Procurify after it reached QuickBooks. Delete or void it in QuickBooks."
    ),
}


def sentence(reason_code: str, **params: Any) -> str:
    if reason_code in EXTRA_REASONS:
        return EXTRA_REASONS[reason_code].format_map({k: params.get(k, "?") for k in ("detail", "bill")})
    return reason_sentence(reason_code, **params)


class Held(RecordHeld):
    """A hold that also says what it waits on, so fixing that thing releases it."""

    def __init__(self, reason_code: str, *, waiting_on: tuple[str, str] = ("", ""), **params: Any) -> None:
        super().__init__(reason_code, sentence(reason_code, **params), detail=params or None)
        self.params = params
        self.waiting_on_type, self.waiting_on_key = waiting_on


@dataclass(frozen=True)
class Ref:
    """A mapped QBO object: its Id, a display name and whether QBO has it active."""

    qbo_id: str
    name: str
    active: bool = True


@dataclass(frozen=True)
class POLink:
    """A PurchaseOrder already in QBO: its Id and line Ids by QBO account (for Bill LinkedTxn)."""

    qbo_id: str
    line_ids_by_account: Mapping[str, str]
    first_line_id: str


@dataclass(frozen=True)
class Mappings:
    vendors: Mapping[int, Ref] = field(default_factory=dict)  # Procurify vendor id → QBO vendor
    accounts: Mapping[int, Ref] = field(default_factory=dict)  # Procurify account code id → QBO account
    terms: Mapping[str, str] = field(default_factory=dict)  # lower-case term name → QBO Term Id
    purchase_orders: Mapping[str, POLink] = field(default_factory=dict)  # Procurify PO uuid → QBO PO
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Plan:
    """What to write: the QBO payload plus what the writer needs to find it again."""

    entity: str
    payload: dict[str, Any]
    label: str
    marker: str
    vendor_id: str
    doc_number: str | None


def bill_marker(uuid: str) -> str:
    return f"procurify:bill:{uuid}"


def po_marker(uuid: str) -> str:
    return f"procurify:po:{uuid}"


def bill_label(bill: Any) -> str:
    number = getattr(bill, "invoice_number", None) or f"#{bill.id}"
    vendor = getattr(getattr(bill, "vendor", None), "name", None)
    return f"Bill {number}" + (f" from {vendor}" if vendor else "")


# ---- bills -------------------------------------------------------------------------------------


def bill_plan(bill: Bill, mappings: Mappings) -> Plan:
    """The QBO Bill for a Procurify bill, or `Held` naming the first thing to fix."""
    doc_number = _doc_number(bill.invoice_number)
    vendor = _vendor(bill.vendor.id, bill.vendor.name, mappings)
    lines = _bill_lines(bill, mappings)
    _check_total(bill, lines)
    payload: dict[str, Any] = {
        "VendorRef": {"value": vendor.qbo_id},
        "TxnDate": _local_date(
            bill.invoice_date or bill.submitted_date or bill.last_modified_datetime, mappings
        ),
        "PrivateNote": f"{bill_marker(bill.uuid)} (Procurify bill #{bill.id})",
        "CurrencyRef": {"value": bill.currency.name},
        "Line": lines,
    }
    if bill.due_date is not None:
        payload["DueDate"] = _local_date(bill.due_date, mappings)
    if doc_number:
        payload["DocNumber"] = doc_number
    if bill.currency.base is False and bill.currency.rate:
        # Procurify's rate converts to its base currency (converted_total_cost = total * rate), which
        # is QBO's "home units per foreign unit" when both books share a home currency (§10).
        payload["ExchangeRate"] = bill.currency.rate
    term_id = mappings.terms.get((bill.payment_terms or "").strip().lower())
    if term_id:
        payload["SalesTermRef"] = {"value": term_id}
    return Plan("Bill", payload, bill_label(bill), bill_marker(bill.uuid), vendor.qbo_id, doc_number)


def _check_total(bill: Bill, lines: list[dict[str, Any]]) -> None:
    """Never write a bill whose lines disagree with what Procurify says is owed (e.g. a line with no
    allocation, allocations that do not add up, sub-cent amounts that round apart)."""
    if bill.total_cost_with_tax is None:
        return
    owed = _money(bill.total_cost_with_tax)
    written = sum((line["Amount"] for line in lines), Decimal(0))
    if written != owed:
        raise Held("bill_total_mismatch", bill=bill_label(bill), lines=written, total=owed)


def _doc_number(number: str | None) -> str | None:
    text = (number or "").strip()
    if len(text) > DOC_NUMBER_MAX:
        # Never cut silently: a truncated number would mislead whoever reconciles (style.md item 12).
        raise Held("docnumber_too_long", doc_number=text)
    return text or None


def _vendor(vendor_id: int, name: str, mappings: Mappings) -> Ref:
    ref = mappings.vendors.get(vendor_id)
    waiting = ("vendor_mapping", str(vendor_id))
    if ref is None:
        raise Held("vendor_unmapped", waiting_on=waiting, vendor=name)
    if not ref.active:
        raise Held("vendor_inactive", waiting_on=waiting, vendor=ref.name or name)
    return ref


def _account(code_id: int, code: str, mappings: Mappings) -> Ref:
    ref = mappings.accounts.get(code_id)
    waiting = ("account_mapping", str(code_id))
    if ref is None:
        raise Held("account_unmapped", waiting_on=waiting, account=code)
    if not ref.active:
        raise Held("account_inactive", waiting_on=waiting, account=code)
    return ref


def _bill_lines(bill: Bill, mappings: Mappings) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    first_account: Ref | None = None
    for item in bill.items:
        for allocation, amount in _allocated(item):
            account = _allocation_account(allocation, mappings)
            first_account = first_account or account
            line = _expense_line(amount, _item_description(item), account)
            link = _po_link(item, account, mappings)
            if link:
                line["LinkedTxn"] = [link]
            lines.append(line)
    for cost in bill.costs:
        account = _cost_account(cost.cost_allocation, first_account, mappings)
        lines.append(_expense_line(_money(cost.amount), cost.name or "Additional cost", account))
    shipping = _money(bill.shipping_amount or Decimal(0))
    if shipping and first_account is not None:
        lines.append(_expense_line(shipping, "Shipping", first_account))
    if not lines:
        raise Held("qbo_validation", detail="the bill has no lines with an account code to post to.")
    return lines


def _allocated(item: BillItem) -> list[tuple[CostAllocation, Decimal]]:
    """Each allocation's amount plus its share of the line's exclusive tax (so TotalAmt = what is owed).

    US QBO companies do not track purchase tax on bills (§10); folding it into the expense keeps the
    payable right. The last allocation takes the rounding remainder so the shares add up exactly.
    """
    allocations = list(item.cost_allocations)
    tax = Decimal(0) if item.tax_is_inclusive else _money(item.tax_amount or Decimal(0))
    base = sum((a.amount for a in allocations), Decimal(0))
    out: list[tuple[CostAllocation, Decimal]] = []
    given = Decimal(0)
    for index, allocation in enumerate(allocations):
        if index == len(allocations) - 1:
            share = tax - given
        else:
            share = _money(tax * allocation.amount / base) if base else Decimal(0)
            given += share
        out.append((allocation, _money(allocation.amount + share)))
    return out


def _allocation_account(allocation: CostAllocation, mappings: Mappings) -> Ref:
    if allocation.budget is None:
        raise Held("account_unmapped", account="(none)")
    code = allocation.budget.account_code
    return _account(code.id, code.code, mappings)


def _cost_account(raw: Any, fallback: Ref | None, mappings: Mappings) -> Ref:
    code = raw.get("budget", {}).get("account_code") if isinstance(raw, dict) else None
    if isinstance(code, dict) and "id" in code:
        return _account(int(code["id"]), str(code.get("code", code["id"])), mappings)
    if fallback is None:
        raise Held("account_unmapped", account="(bill-level cost without an account code)")
    return fallback


def _item_description(item: BillItem) -> str:
    parts = [item.description or "", f"({item.sku})" if item.sku else ""]
    return " ".join(p for p in parts if p)[:4000]


def _expense_line(amount: Decimal, description: str, account: Ref) -> dict[str, Any]:
    return {
        "Amount": amount,
        "Description": description,
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account.qbo_id}},
    }


def _po_link(item: BillItem, account: Ref, mappings: Mappings) -> dict[str, str] | None:
    # All three attributes are required or QBO silently drops the link (§3 Bill, §12.11).
    if item.po is None or not item.po.uuid:
        return None
    po = mappings.purchase_orders.get(item.po.uuid)
    if po is None:
        return None
    line_id = po.line_ids_by_account.get(account.qbo_id, po.first_line_id)
    return {"TxnId": po.qbo_id, "TxnType": "PurchaseOrder", "TxnLineId": line_id}


# ---- purchase orders ---------------------------------------------------------------------------


def po_plan(po: PurchaseOrder, mappings: Mappings) -> Plan:
    doc_number = _doc_number(po.po_num or po.number)
    if po.pref_vendor is None:
        raise Held("vendor_unmapped", vendor="(no vendor on the purchase order)")
    vendor = _vendor(po.pref_vendor.id, po.pref_vendor.name, mappings)
    lines = []
    for item in po.order_items:
        if item.account is None:
            raise Held("account_unmapped", account="(none)")
        code = item.account.account_code
        account = _account(code.id, code.code, mappings)
        amount = _po_amount(item, po.number)
        lines.append(_expense_line(amount, item.name or "", account))
    if not lines:
        raise Held("qbo_validation", detail="the purchase order has no lines.")
    payload: dict[str, Any] = {
        "VendorRef": {"value": vendor.qbo_id},
        "POStatus": "Open" if (po.state or 0) in PO_OPEN_STATES else "Closed",
        "PrivateNote": f"{po_marker(po.uuid)} (Procurify PO {po.number})",
        "Line": lines,
    }
    if doc_number:
        payload["DocNumber"] = doc_number
    if po.date is not None:
        payload["TxnDate"] = _local_date(po.date, mappings)
    if po.purchased_currency is not None:
        payload["CurrencyRef"] = {"value": po.purchased_currency.name}
    label = f"Purchase order {po.number}" + (f" to {po.pref_vendor.name}" if po.pref_vendor else "")
    return Plan("PurchaseOrder", payload, label, po_marker(po.uuid), vendor.qbo_id, doc_number)


def _line_total(item: Any) -> Decimal:
    quantity = item.approved_quantity or item.quantity or Decimal(0)
    price = item.approved_price or item.price or Decimal(0)
    return Decimal(quantity) * Decimal(price)


def _po_amount(item: Any, number: Any) -> Decimal:
    """A PO line's amount in cents, or a malformed hold: quantity and price are each below
    MONEY_LIMIT, but their product can reach 1e30, which is not money and overflows Decimal's 28
    digits when rounded to cents (InvalidOperation used to fail the whole run)."""
    try:
        raw = item.total_cost if item.total_cost is not None else _line_total(item)
        amount = _money(raw)
    except (InvalidOperation, ArithmeticError):
        amount = None
    if amount is None or not abs(amount) < MONEY_LIMIT:
        raise Held(
            "malformed_record",
            record=f"purchase order {number}",
            error=f"the line '{item.name or ''}' totals more than any amount of money (quantity x price).",
        )
    return amount


# ---- vendors -----------------------------------------------------------------------------------


def vendor_payload(name: str, *, email: str | None = None) -> dict[str, Any]:
    """A QBO Vendor for a Procurify vendor. Colons, tabs and newlines are refused by QBO (2040)."""
    display = " ".join(name.replace(":", " -").split())[:500]
    payload: dict[str, Any] = {"DisplayName": display, "CompanyName": display[:100]}
    if email:
        payload["PrimaryEmailAddr"] = {"Address": email}
    return payload


# ---- small helpers -----------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _local_date(value: datetime, mappings: Mappings) -> str:
    # TxnDate/DueDate are plain dates in the company's books: compute them in the organisation's
    # time zone, not UTC, to avoid off-by-one dates (quickbooks-online.md §12.13).
    # Procurify sends calendar dates (invoice_date, due_date) as midnight UTC; those are dates, not
    # instants, and converting them would move a Vancouver bill to the previous day.
    if value.tzinfo is None or (value.utcoffset() == timedelta(0) and value.time() == time.min):
        return value.date().isoformat()
    return value.astimezone(zoneinfo.ZoneInfo(mappings.time_zone)).date().isoformat()
