"""Issue 10, the pure rules: currencies and rates, long invoice numbers, lines that add up, PO links.

Each test builds a Procurify bill or PO as the API sends it and checks the QBO payload or the hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.procurify.schemas import Bill, PurchaseOrder
from connector.procurify.streams import parse_record
from connector.sync.shapes import Books, Held, Mappings, POLink, Ref
from connector.sync.transform import bill_plan, po_plan
from tests.security.security_support import CODE_MAPPED, VENDOR_MAPPED, allocation, bill_detail

USD_BOOKS = Books(
    home_currency="USD",
    multicurrency=True,
    procurify_base="USD",
    payables={"USD": "33", "CAD": "34", "EUR": "35"},
)


def mappings(vendor_currency: str = "USD", books: Books = USD_BOOKS, **kwargs: Any) -> Mappings:
    return Mappings(
        vendors={VENDOR_MAPPED: Ref("56", "Maple Leaf Pallets", currency=vendor_currency)},
        accounts={CODE_MAPPED: Ref("80", "Office Supplies")},
        books=books,
        **kwargs,
    )


def cad_bill(**overrides: Any) -> Bill:
    fields: dict[str, Any] = {
        "currency": {"id": 2, "name": "CAD", "rate": "0.740000", "base": False, "active": True},
        "converted_total_cost": Decimal("824.90"),  # 1130.00 CAD at the bill's own rate of 0.73
    }
    raw = bill_detail(**{**fields, **overrides})
    return parse_record(Bill, raw, "uuid")


def usd_bill(**overrides: Any) -> Bill:
    return parse_record(Bill, bill_detail(**overrides), "uuid")


# ---- currencies and rates ------------------------------------------------------------------------


def test_it_writes_a_foreign_bill_in_its_currency_at_its_own_rate_against_the_payables_of_that_currency():
    plan = bill_plan(cad_bill(), mappings("CAD"))

    assert plan.payload["CurrencyRef"] == {"value": "CAD"}
    # Procurify's currency shows today's 0.74; the bill converted at 0.73 (824.90 / 1130.00).
    assert plan.payload["ExchangeRate"] == Decimal("0.73")
    assert plan.payload["APAccountRef"] == {"value": "34"}


def test_it_keeps_the_rate_of_the_first_write_when_the_bill_is_edited_without_a_new_rate():
    edited = cad_bill(note="approved again")

    plan = bill_plan(edited, mappings("CAD"), previous_rate=Decimal("0.7300"))

    assert plan.payload["ExchangeRate"] == Decimal("0.7300")


def test_it_sends_the_bills_new_rate_when_procurify_changed_the_bills_own_rate():
    revalued = cad_bill(converted_total_cost=Decimal("847.50"))  # 1130.00 at 0.75

    plan = bill_plan(revalued, mappings("CAD"), previous_rate=Decimal("0.73"))

    assert plan.payload["ExchangeRate"] == Decimal("0.75")


def test_it_holds_a_bill_whose_currency_is_not_its_qbo_vendors_and_names_both_and_the_twin():
    with pytest.raises(Held) as caught:
        bill_plan(cad_bill(), mappings("USD"))

    held = caught.value
    assert held.reason_code == "vendor_currency_mismatch"
    assert "is in CAD" in held.message and "bills in USD" in held.message
    assert "Maple Leaf Pallets (CAD)" in held.message
    assert (held.waiting_on_type, held.waiting_on_key) == ("vendor_currency", f"{VENDOR_MAPPED}:CAD")


def test_it_holds_a_foreign_bill_when_multicurrency_is_off_and_names_the_setting():
    books = Books(home_currency="USD", multicurrency=False, procurify_base="USD", payables={"USD": "33"})

    with pytest.raises(Held) as caught:
        bill_plan(cad_bill(), mappings("", books))

    assert caught.value.reason_code == "multicurrency_off"
    assert "Multicurrency is off in QuickBooks" in caught.value.message
    assert (caught.value.waiting_on_type, caught.value.waiting_on_key) == ("books", "multicurrency")


def test_it_sends_no_currency_fields_in_a_single_currency_company():
    books = Books(home_currency="USD", multicurrency=False, procurify_base="USD", payables={"USD": "33"})

    plan = bill_plan(usd_bill(), mappings("", books))

    for field in ("CurrencyRef", "ExchangeRate", "APAccountRef"):
        assert field not in plan.payload  # QuickBooks' default A/P, as a person's entry would use


def test_it_never_sends_a_rate_computed_against_another_base_currency():
    books = Books(home_currency="USD", multicurrency=True, procurify_base="EUR", payables={"CAD": "34"})

    with pytest.raises(Held) as caught:
        bill_plan(cad_bill(), mappings("CAD", books))

    assert caught.value.reason_code == "exchange_rate_base_mismatch"
    assert "(in CAD) to EUR" in caught.value.message and "home currency is USD" in caught.value.message


def test_it_holds_a_bill_in_a_currency_without_a_payables_account():
    books = Books(home_currency="USD", multicurrency=True, procurify_base="USD", payables={"USD": "33"})

    with pytest.raises(Held) as caught:
        bill_plan(cad_bill(), mappings("CAD", books))

    assert caught.value.reason_code == "no_payables_account"
    assert caught.value.waiting_on_key == "payables:CAD"


def test_it_writes_nothing_before_quickbooks_settings_were_read():
    with pytest.raises(Held) as caught:
        bill_plan(usd_bill(), mappings("USD", Books()))

    assert caught.value.reason_code == "books_unknown"


# ---- invoice numbers -----------------------------------------------------------------------------


def test_it_cuts_a_long_invoice_number_to_21_characters_and_keeps_the_whole_in_the_note():
    plan = bill_plan(usd_bill(invoice_number="INV-2026-000123-ABCDEFGHI"), mappings())

    assert plan.payload["DocNumber"] == "INV-2026-000123-ABCDE"
    assert plan.doc_number == "INV-2026-000123-ABCDE"
    assert "Invoice number: INV-2026-000123-ABCDEFGHI" in plan.payload["PrivateNote"]


def test_it_leaves_the_note_alone_when_the_number_fits():
    plan = bill_plan(usd_bill(invoice_number="INV-10442"), mappings())

    assert plan.payload["DocNumber"] == "INV-10442"
    assert "Invoice number" not in plan.payload["PrivateNote"]


# ---- lines that add up ---------------------------------------------------------------------------


def _item(item_id: int, amount: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "description": f"Item {item_id}",
        "total_cost": Decimal(amount),
        "tax_amount": Decimal("0"),
        "tax_is_inclusive": False,
        "cost_allocations": [allocation(item_id, amount)],
        **fields,
    }


def test_it_writes_an_item_whose_total_with_tax_is_null_from_its_allocations():
    items = [_item(1, "2575.00", total_cost_with_tax=None), _item(2, "1400.00")]

    plan = bill_plan(usd_bill(items=items, total_cost_with_tax=Decimal("3975.00")), mappings())

    assert sum(line["Amount"] for line in plan.payload["Line"]) == Decimal("3975.00")


def test_it_writes_item_level_shipping_on_its_own_line_on_the_items_account():
    items = [_item(1, "1000.00", shipping_amount=Decimal("45.50"))]

    plan = bill_plan(
        usd_bill(items=items, shipping_amount=Decimal("10.00"), total_cost_with_tax=Decimal("1055.50")),
        mappings(),
    )

    amounts = [(line["Description"], line["Amount"]) for line in plan.payload["Line"]]
    assert ("Shipping: Item 1", Decimal("45.50")) in amounts
    assert ("Shipping", Decimal("10.00")) in amounts
    assert sum(a for _, a in amounts) == Decimal("1055.50")


def test_it_holds_an_item_with_an_amount_but_no_allocation_instead_of_dropping_it():
    items = [_item(1, "1000.00"), {**_item(2, "2975.00"), "cost_allocations": []}]

    with pytest.raises(Held) as caught:
        bill_plan(usd_bill(items=items, total_cost_with_tax=Decimal("3975.00")), mappings())

    assert caught.value.reason_code == "account_unmapped"
    assert "Item 2" in caught.value.message


def test_it_holds_lines_that_do_not_add_up_naming_both_figures():
    with pytest.raises(Held) as caught:
        bill_plan(usd_bill(items=[_item(1, "1400.00")], total_cost_with_tax=Decimal("3975.00")), mappings())

    assert caught.value.reason_code == "bill_total_mismatch"
    assert "1400.00" in caught.value.message and "3975.00" in caught.value.message


def test_it_holds_a_bill_without_a_total_rather_than_trusting_its_lines():
    with pytest.raises(Held) as caught:
        bill_plan(usd_bill(total_cost_with_tax=None), mappings())

    assert caught.value.reason_code == "bill_total_missing"


# ---- purchase orders -----------------------------------------------------------------------------


def _po(state: int = 0, lines: list[dict[str, Any]] | None = None) -> PurchaseOrder:
    account = allocation(0, "0")["budget"]
    raw = {
        "uuid": "9b2e0c5d4f3a4e0b8c7d6e5f4a3b2c1d",
        "number": "1207",
        "state": state,
        "pref_vendor": {"id": VENDOR_MAPPED, "name": "Maple Leaf Pallets"},
        "purchased_currency": {"id": 3, "name": "USD", "rate": "1.000000", "base": True},
        "order_items": [{**line, "account": account} for line in lines or []],
    }
    return parse_record(PurchaseOrder, raw, "uuid")


def test_it_counts_an_approved_quantity_of_zero_as_zero():
    po = _po(
        lines=[
            {"id": 1, "name": "Pallets", "quantity": "10", "price": "12.00", "approved_quantity": "10"},
            {"id": 2, "name": "Straps", "quantity": "6", "price": "4.00", "approved_quantity": "0"},
        ]
    )

    plan = po_plan(po, mappings())

    assert [line["Amount"] for line in plan.payload["Line"]] == [Decimal("120.00"), Decimal("0.00")]
    assert plan.line_keys == ("1", "2")


def test_it_closes_a_purchase_order_cancelled_after_it_was_written_with_a_note():
    po = _po(state=1, lines=[{"id": 1, "name": "Pallets", "quantity": "1", "price": "5.00"}])

    plan = po_plan(po, mappings())

    assert plan.payload["POStatus"] == "Closed"
    assert "Cancelled in Procurify" in plan.payload["PrivateNote"]


def test_it_links_each_bill_line_to_the_po_line_it_was_billed_from():
    po_ref = {"id": 77, "number": "1207", "uuid": "9b2e0c5d4f3a4e0b8c7d6e5f4a3b2c1d"}
    items = [
        _item(1, "100.00", po=po_ref, orderitem=502),
        _item(2, "50.00", po=po_ref, orderitem=501),
        _item(3, "25.00", po=po_ref),  # no order item: not linked rather than linked by guess
    ]
    links = {po_ref["uuid"]: POLink("900", {"501": "1", "502": "2"})}

    plan = bill_plan(
        usd_bill(items=items, total_cost_with_tax=Decimal("175.00")), mappings(purchase_orders=links)
    )

    linked = [line.get("LinkedTxn") for line in plan.payload["Line"]]
    assert linked[0] == [{"TxnId": "900", "TxnType": "PurchaseOrder", "TxnLineId": "2"}]
    assert linked[1] == [{"TxnId": "900", "TxnType": "PurchaseOrder", "TxnLineId": "1"}]
    assert linked[2] is None
