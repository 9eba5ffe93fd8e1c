"""Pure functions: a Procurify record plus the mappings → a QBO payload, or a hold with a reason.

No database, no HTTP: everything the transform needs arrives in a `Mappings` value, so every
rule here is testable with plain objects. Amounts stay Decimal until the QBO client serialises.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.procurify.schemas import MONEY_LIMIT, Bill, BillItem, CostAllocation, PurchaseOrder
from connector.sync import closed_books, dimensions, tax
from connector.sync.shapes import CENT, Books, Held, Mappings, Plan, Ref, bill_label

DOC_NUMBER_MAX = 21  # QBO Transaction.DocNumber max (docs/qbo-facts.md, "Bill")
RATE_PLACES = Decimal("0.00000001")
# Procurify bill status (procurify.md §3): 2 Approved, 4 Paid, 6 Payment Confirmed, 7 Payment Approved.
SYNC_STATUSES = frozenset({2, 4, 6, 7})
# 3 Denied, 5 Withdrawn: a bill that reached QBO and then went this way needs a person.
VOID_STATUSES = frozenset({3, 5})
# PO state (procurify.md §3): 0 Purchased, 1 Cancelled, 3 Closed, 4 Paid, 5 Reopened, 2 legacy.
PO_OPEN_STATES = frozenset({0, 2, 5})
PO_CANCELLED = 1


def bill_marker(uuid: str) -> str:
    return f"procurify:bill:{uuid}"


def po_marker(uuid: str) -> str:
    return f"procurify:po:{uuid}"


# ---- bills -------------------------------------------------------------------------------------


def bill_plan(
    bill: Bill, mappings: Mappings, *, previous_rate: Decimal | None = None, label: str | None = None
) -> Plan:
    """The QBO Bill for a Procurify bill, or `Held` naming the first thing to fix.

    previous_rate: the ExchangeRate QBO holds for this bill from an earlier write; kept unless the
    Procurify bill's own rate changed (a bill's rate is the one of its day, not today's).
    label: how holds name it (a credit is "Vendor credit …", connector/sync/credits.py).
    """
    label = label or bill_label(bill)
    doc_number, full_number = _doc_number(bill.invoice_number)
    vendor = _vendor(bill.vendor.id, bill.vendor.name, mappings)
    currency = _currency(bill.currency.name, label, mappings.books)
    _check_vendor_currency(currency, vendor, bill.vendor.id, label)
    lines = _bill_lines(bill, mappings)

    if tax.applies(mappings.books):
        extra = tax.bill_fields(bill, lines, mappings)  # proves QuickBooks' total with its tax
    else:
        _check_total(bill, lines, label)
        extra = {}
    extra.update(dimensions.bill_fields(bill, lines, mappings))
    note = f"{bill_marker(bill.uuid)} (Procurify bill #{bill.id})"
    if full_number != doc_number:
        # QBO keeps 21 characters of a DocNumber; the whole supplier number stays findable here.
        note += f" Invoice number: {full_number}"
    payload: dict[str, Any] = {
        "VendorRef": {"value": vendor.qbo_id},
        "TxnDate": _local_date(
            bill.invoice_date or bill.submitted_date or bill.last_modified_datetime, mappings
        ),
        "PrivateNote": note[:4000],
        "Line": lines,
    }
    payload.update(_currency_fields(bill, currency, label, mappings.books, previous_rate))
    if bill.due_date is not None:
        payload["DueDate"] = _local_date(bill.due_date, mappings)
    if doc_number:
        payload["DocNumber"] = doc_number
    term_id = mappings.terms.get((bill.payment_terms or "").strip().lower())
    if term_id:
        payload["SalesTermRef"] = {"value": term_id}
    total = extra.pop("_total", None)  # the QuickBooks total tax.bill_fields proved
    payload.update(extra)
    _closed_books(payload, mappings.books)
    return Plan("Bill", payload, label, bill_marker(bill.uuid), vendor.qbo_id, doc_number, total=total)


def _closed_books(payload: dict[str, Any], books: Books) -> None:
    """Hold a bill dated in closed books, or move it to the first open day (closed_books.py)."""
    dated = date.fromisoformat(payload["TxnDate"])
    decision = closed_books.decide(dated, books.book_close_date, books.closed_period_policy)
    if decision.action == "hold" and decision.close_date is not None:
        raise Held(
            "books_closed",
            waiting_on=("books", f"closed:{dated.isoformat()}"),
            close_date=closed_books.human(decision.close_date),
            bill_date=closed_books.human(dated),
        )
    if decision.action == "move" and decision.close_date is not None:
        payload["TxnDate"] = decision.txn_date.isoformat()
        payload["PrivateNote"] = (
            payload["PrivateNote"] + closed_books.moved_note(dated, decision.close_date)
        )[:4000]


def _check_total(bill: Bill, lines: list[dict[str, Any]], label: str) -> None:
    """Never write a bill whose lines disagree with what Procurify says is owed (e.g. a line with no
    allocation, allocations that do not add up, sub-cent amounts that round apart)."""
    if bill.total_cost_with_tax is None:
        raise Held("bill_total_missing", bill=label)
    owed = _money(bill.total_cost_with_tax)
    written = sum((line["Amount"] for line in lines), Decimal(0))
    if written != owed:
        raise Held("bill_total_mismatch", bill=label, lines=written, total=owed)


def _doc_number(number: str | None) -> tuple[str | None, str | None]:
    """(DocNumber to send, the whole number). Longer numbers are cut to QBO's 21 characters and the
    whole number goes to the private note: suppliers' numbers are not ours to shorten."""
    text = (number or "").strip()
    if not text:
        return None, None
    return text[:DOC_NUMBER_MAX].rstrip(), text


# ---- currencies ----------------------------------------------------------------------------------


def _currency(name: str | None, record: str, books: Books) -> str:
    """The record's currency code, or a hold when QuickBooks cannot take it (docs/qbo-facts.md)."""
    if not books.home_currency:
        raise Held("books_unknown")
    currency = (name or "").strip().upper()
    if not currency and not books.multicurrency:
        return books.home_currency  # a single-currency company has no other currency to be in
    if not currency:
        raise Held("malformed_record", record=record, error="it has no currency.")
    _check_multicurrency(currency, record, books)
    return currency


def _check_multicurrency(currency: str, record: str, books: Books) -> None:
    if currency and currency != books.home_currency and not books.multicurrency:
        raise Held(
            "multicurrency_off",
            waiting_on=("books", "multicurrency"),
            record=record,
            currency=currency,
            home=books.home_currency,
        )


def _check_vendor_currency(currency: str, vendor: Ref, procurify_vendor_id: int, record: str) -> None:
    # A QBO vendor has one currency and refuses transactions in another (docs/qbo-facts.md, Currencies).
    if vendor.currency and vendor.currency != currency:
        raise Held(
            "vendor_currency_mismatch",
            # Retried once the vendor maps to a QBO vendor in this currency (books_allow-style check).
            waiting_on=("vendor_currency", f"{procurify_vendor_id}:{currency}"),
            bill=record,
            bill_currency=currency,
            vendor=vendor.name,
            vendor_currency=vendor.currency,
            twin=currency_twin_name(vendor.name, currency),
        )


def books_allow(books: Books, key: str) -> bool:
    """Whether the QuickBooks setting a hold waits on ("multicurrency", "payables:CAD") is now there."""
    if key == "multicurrency":
        return books.multicurrency
    if key.startswith("payables:"):
        return key.removeprefix("payables:") in books.payables
    if key.startswith("closed:"):  # reopened books, or the organisation now posts on the first open day
        dated = date.fromisoformat(key.removeprefix("closed:"))
        return closed_books.decide(dated, books.book_close_date, books.closed_period_policy).action != "hold"
    return False


def vendor_in_currency(mappings: Mappings, key: str) -> bool:
    """key "<procurify vendor id>:<currency>": the vendor now maps to an active QBO vendor that can
    take bills in that currency."""
    vendor_id, _, currency = key.partition(":")
    ref = mappings.vendors.get(int(vendor_id)) if vendor_id.isdigit() else None
    return ref is not None and ref.active and ref.currency in ("", currency)


def currency_twin_name(name: str, currency: str) -> str:
    """The name of a vendor's twin in another currency, e.g. "Maple Leaf Pallets (CAD)"."""
    return f"{name} ({currency})"


def _currency_fields(
    bill: Bill, currency: str, label: str, books: Books, previous_rate: Decimal | None
) -> dict[str, Any]:
    """CurrencyRef, ExchangeRate and the A/P account in the bill's currency (multicurrency only)."""
    if not books.multicurrency:
        return {}  # one currency: QuickBooks posts to its default A/P account, as a person's entry would
    fields: dict[str, Any] = {"CurrencyRef": {"value": currency}}
    ap = books.payables.get(currency)
    if not ap:
        raise Held(
            "no_payables_account", waiting_on=("books", f"payables:{currency}"), currency=currency, bill=label
        )
    fields["APAccountRef"] = {"value": ap}
    if currency != books.home_currency:
        if books.base_mismatch:
            raise Held(
                "exchange_rate_base_mismatch",
                bill=label,
                currency=currency,
                procurify_base=books.procurify_base,
                home=books.home_currency,
            )
        fields["ExchangeRate"] = bill_rate(bill, previous_rate)
    return fields


def bill_rate(bill: Bill, previous: Decimal | None) -> Decimal:
    """Home units per foreign unit (docs/qbo-facts.md, Currencies) for this bill, from Procurify's figures.

    Procurify's ``currency.rate`` is today's rate; the bill's own rate shows in converted_total_cost
    (its total in the base currency). The rate sent at the first write is kept while it still
    converts the bill to Procurify's figure, so editing an old bill does not revalue it.
    """
    total, converted = bill.total_cost_with_tax, bill.converted_total_cost
    if total is None or converted is None or not total:
        if previous is not None:
            return previous
        return _today_rate(bill)
    if previous is not None and _converts(total, previous, converted):
        return previous
    today = bill.currency.rate
    if today and _converts(total, today, converted):
        return Decimal(today)
    return (Decimal(converted) / Decimal(total)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _converts(total: Decimal, rate: Decimal, converted: Decimal) -> bool:
    return _money(Decimal(total) * Decimal(rate)) == _money(converted)


def _today_rate(bill: Bill) -> Decimal:
    if not bill.currency.rate or bill.currency.rate <= 0:
        raise Held("malformed_record", record=bill_label(bill), error="its currency has no exchange rate.")
    return Decimal(bill.currency.rate)


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
    """One line per allocation (its share of the item's tax included), one per item-level shipping,
    one per bill-level cost and one for bill-level shipping. Nothing owed is left off: an amount
    with no account to post to holds the bill (the total check is the second guard)."""

    label = bill_label(bill)

    def dressed(line: dict[str, Any], taxed: Any, allocation: CostAllocation | None) -> dict[str, Any]:
        tax.code_line(line, taxed, mappings, label)
        return dimensions.class_line(line, allocation, mappings, label)

    mode = tax.bill_mode(bill) if tax.applies(mappings.books) else ""
    lines: list[dict[str, Any]] = []
    first_account: Ref | None = None
    first_allocation: CostAllocation | None = None
    for item in bill.items:
        item_account: Ref | None = None
        item_allocation: CostAllocation | None = None
        for allocation, amount in tax.allocated(item, mode) if mode else _allocated(item):
            account = _allocation_account(allocation, mappings)
            item_account = item_account or account
            item_allocation = item_allocation or allocation
            line = _expense_line(amount, _item_description(item), account)
            link = _po_link(item, mappings)
            if link:
                line["LinkedTxn"] = [link]
            lines.append(dressed(line, tax.item_tax(item), allocation))
        shipping = _money(item.shipping_amount or Decimal(0))
        if shipping:
            if item_account is None:
                raise Held("account_unmapped", account=f"(no account code on '{_item_description(item)}')")
            line = _expense_line(shipping, f"Shipping: {_item_description(item)}"[:4000], item_account)
            lines.append(dressed(line, tax.UNTAXED, item_allocation))
        first_account = first_account or item_account
        first_allocation = first_allocation or item_allocation
    for cost in bill.costs:
        account = _cost_account(cost.cost_allocation, first_account, mappings)
        line = _expense_line(_money(cost.amount), cost.name or "Additional cost", account)
        lines.append(dressed(line, tax.UNTAXED, first_allocation))
    shipping = _money(bill.shipping_amount or Decimal(0))
    if shipping:
        if first_account is None:
            raise Held("account_unmapped", account="(bill-level shipping without an account code)")
        lines.append(
            dressed(_expense_line(shipping, "Shipping", first_account), tax.UNTAXED, first_allocation)
        )
    if not lines:
        raise Held("qbo_validation", detail="the bill has no lines with an account code to post to.")
    return lines


def _allocated(item: BillItem) -> list[tuple[CostAllocation, Decimal]]:
    """Each allocation's amount plus its share of the line's exclusive tax (so TotalAmt = what is owed).

    US QBO companies do not track purchase tax on bills (§10); folding it into the expense keeps the
    payable right. The last allocation takes the rounding remainder so the shares add up exactly.
    An item with an amount but no allocation has no account to post to: it holds the bill.
    """
    allocations = list(item.cost_allocations)
    if not allocations:
        owed = item.total_cost_with_tax if item.total_cost_with_tax is not None else item.total_cost
        if owed:
            raise Held("account_unmapped", account=f"(no account code on '{_item_description(item)}')")
        return []
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


def _po_link(item: BillItem, mappings: Mappings) -> dict[str, str] | None:
    """The PO line this bill line was billed from, through the item's ``orderitem``. No guess: with
    no order item (or a PO line we did not write) the bill line is simply not linked, because a
    wrong link marks the wrong PO line as billed."""
    # All three attributes are required or QBO silently drops the link (docs/qbo-facts.md, "Bill").
    if item.po is None or not item.po.uuid or item.order_item_id is None:
        return None
    po = mappings.purchase_orders.get(item.po.uuid)
    line_id = po.line_ids_by_order_item.get(str(item.order_item_id)) if po else None
    if po is None or not line_id:
        return None
    return {"TxnId": po.qbo_id, "TxnType": "PurchaseOrder", "TxnLineId": line_id}


# ---- purchase orders ---------------------------------------------------------------------------


def po_plan(po: PurchaseOrder, mappings: Mappings) -> Plan:
    doc_number, _ = _doc_number(po.po_num or po.number)
    if po.pref_vendor is None:
        raise Held("vendor_unmapped", vendor="(no vendor on the purchase order)")
    label = f"Purchase order {po.number} to {po.pref_vendor.name}"
    vendor = _vendor(po.pref_vendor.id, po.pref_vendor.name, mappings)
    currency = _currency(po.purchased_currency.name if po.purchased_currency else None, label, mappings.books)
    _check_vendor_currency(currency, vendor, po.pref_vendor.id, label)
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
    note = f"{po_marker(po.uuid)} (Procurify PO {po.number})"
    if po.state == PO_CANCELLED:
        note += " Cancelled in Procurify."
    payload: dict[str, Any] = {
        "VendorRef": {"value": vendor.qbo_id},
        "POStatus": "Open" if (po.state or 0) in PO_OPEN_STATES else "Closed",
        "PrivateNote": note,
        "Line": lines,
    }
    if doc_number:
        payload["DocNumber"] = doc_number
    if po.date is not None:
        payload["TxnDate"] = _local_date(po.date, mappings)
    if mappings.books.multicurrency:
        payload["CurrencyRef"] = {"value": currency}
    keys = tuple(str(item.id) for item in po.order_items)
    return Plan("PurchaseOrder", payload, label, po_marker(po.uuid), vendor.qbo_id, doc_number, keys)


def _line_total(item: Any) -> Decimal:
    """Approved quantity and price when Procurify has them (an approved 0 is 0), else the requested."""
    quantity = item.approved_quantity if item.approved_quantity is not None else item.quantity
    price = item.approved_price if item.approved_price is not None else item.price
    return Decimal(quantity or 0) * Decimal(price or 0)


def _po_amount(item: Any, number: Any) -> Decimal:
    """A PO line's amount in cents, or a malformed hold: quantity and price are each below
    MONEY_LIMIT, but their product can reach 1e30, which is not money and overflows Decimal's 28
    digits when rounded to cents (InvalidOperation used to fail the whole run)."""
    try:
        approved = item.approved_quantity is not None or item.approved_price is not None
        raw = item.total_cost if item.total_cost is not None and not approved else _line_total(item)
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


def vendor_payload(name: str, *, email: str | None = None, currency: str | None = None) -> dict[str, Any]:
    """A QBO Vendor for a Procurify vendor. Colons, tabs and newlines are refused by QBO (2040).

    currency: the vendor's currency, sent in multicurrency companies only; QBO fixes it for good.
    """
    display = " ".join(name.replace(":", " -").split())[:500]
    payload: dict[str, Any] = {"DisplayName": display, "CompanyName": display[:100]}
    if currency:
        payload["CurrencyRef"] = {"value": currency}
    if email:
        payload["PrimaryEmailAddr"] = {"Address": email}
    return payload


def new_vendor_currency(name: str, procurify_currency: str, books: Books) -> str | None:
    """The CurrencyRef of a vendor we create: its Procurify currency, since QBO fixes a vendor's
    currency for good. None in a single-currency company (every vendor is in the home currency)."""
    currency = (procurify_currency or "").strip().upper()
    if not books.home_currency:
        raise Held("books_unknown")
    if not books.multicurrency:
        _check_multicurrency(currency, f"Vendor '{name}'", books)
        return None
    if not currency:
        raise Held("vendor_currency_unknown", vendor=name)
    return currency


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
