"""Issue 15, the pure rules: which QBO object a Procurify bill is, and a credit's lines and holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.procurify.schemas import Bill
from connector.procurify.streams import parse_record
from connector.sync import credits
from connector.sync.shapes import Books, Held, Mappings, POLink, Ref
from tests.security.security_support import CODE_MAPPED, VENDOR_MAPPED, allocation, bill_detail

BOOKS = Books(
    home_currency="USD", multicurrency=True, procurify_base="USD", payables={"USD": "33", "EUR": "35"}
)


def _mappings(vendor_currency: str = "USD", **kwargs: Any) -> Mappings:
    return Mappings(
        vendors={VENDOR_MAPPED: Ref("56", "Great Lakes Fasteners", currency=vendor_currency)},
        accounts={CODE_MAPPED: Ref("80", "Raw Materials")},
        books=BOOKS,
        **kwargs,
    )


def _item(item_id: int, amount: str, tax: str = "0", **extra: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "description": f"Item {item_id}",
        "quantity": "1",
        "unit_cost": Decimal(amount),
        "total_cost": Decimal(amount),
        "tax_amount": Decimal(tax),
        "tax_is_inclusive": False,
        "cost_allocations": [allocation(item_id, amount)],
        **extra,
    }


def _bill(*items: dict[str, Any], total: str, **overrides: Any) -> Bill:
    raw = bill_detail(
        items=list(items), total_cost_with_tax=Decimal(total), invoice_number="CN-7", **overrides
    )
    return parse_record(Bill, raw, "uuid")


def test_a_negative_total_is_a_vendor_credit_with_every_sign_turned_round():
    bill = _bill(_item(1, "-125.00", tax="-9.06"), _item(2, "15.00"), total="-119.06")

    plan = credits.plan_for(bill, _mappings())

    assert plan.entity == "VendorCredit" and credits.link_type(bill) == "vendor_credit"
    assert [line["Amount"] for line in plan.payload["Line"]] == [Decimal("134.06"), Decimal("-15.00")]
    assert sum(line["Amount"] for line in plan.payload["Line"]) == Decimal("119.06")
    assert "DueDate" not in plan.payload and "SalesTermRef" not in plan.payload
    assert plan.payload["APAccountRef"] == {"value": "33"} and plan.payload["DocNumber"] == "CN-7"
    assert plan.marker == "procurify:bill:1f99cf4a8c8d4d4abf5a4d3a2c1e7b88"
    assert plan.label == "Vendor credit CN-7 from Acme Supplies Ltd"


def test_a_positive_total_with_a_negative_line_stays_a_bill_with_that_line_negative():
    bill = _bill(_item(1, "410.00"), _item(2, "-20.50"), total="389.50")

    plan = credits.plan_for(bill, _mappings())

    assert plan.entity == "Bill" and credits.link_type(bill) == "bill"
    assert [line["Amount"] for line in plan.payload["Line"]] == [Decimal("410.00"), Decimal("-20.50")]
    assert plan.payload["DueDate"] == "2024-06-01"


def test_a_zero_total_stays_a_bill():
    bill = _bill(_item(1, "20.00"), _item(2, "-20.00"), total="0")

    assert credits.plan_for(bill, _mappings()).entity == "Bill"


def test_a_foreign_credit_keeps_the_bills_rate_and_the_payables_of_its_currency():
    euro = {"id": 4, "name": "EUR", "rate": "1.100000", "base": False, "active": True}
    bill = _bill(_item(1, "-368.00"), total="-368.00", currency=euro, converted_total_cost=Decimal("-397.44"))

    plan = credits.plan_for(bill, _mappings("EUR"))

    assert plan.payload["CurrencyRef"] == {"value": "EUR"} and plan.payload["APAccountRef"] == {"value": "35"}
    assert plan.payload["ExchangeRate"] == Decimal("1.08")  # -397.44 / -368.00, not today's 1.10
    assert plan.payload["Line"][0]["Amount"] == Decimal("368.00")


def test_a_credit_line_is_not_linked_to_the_po_line_it_came_from():
    po_item = _item(1, "-50.00", po={"id": 7, "uuid": "po-uuid", "number": "1201"}, orderitem=88)
    bill = _bill(po_item, total="-50.00")
    linked = _mappings(purchase_orders={"po-uuid": POLink("900", {"88": "3"})})

    plan = credits.plan_for(bill, linked)
    billed = credits.plan_for(_bill({**po_item, **_item(1, "50.00")}, total="50.00"), linked)

    assert "LinkedTxn" not in plan.payload["Line"][0]
    assert billed.payload["Line"][0]["LinkedTxn"] == [
        {"TxnId": "900", "TxnType": "PurchaseOrder", "TxnLineId": "3"}
    ]


def test_a_credit_that_cannot_be_written_is_held_and_named_a_vendor_credit():
    bill = _bill(_item(1, "-40.00"), total="-40.00")

    with pytest.raises(Held) as caught:
        credits.plan_for(bill, _mappings("EUR"))  # its QBO vendor bills in EUR

    assert caught.value.reason_code == "vendor_currency_mismatch"
    assert "Vendor credit CN-7 from Acme Supplies Ltd is in USD" in caught.value.message


def test_a_credit_whose_lines_do_not_add_up_is_held_with_the_amounts():
    bill = _bill(_item(1, "-40.00"), total="-45.00")

    with pytest.raises(Held) as caught:
        credits.plan_for(bill, _mappings())

    assert caught.value.reason_code == "bill_total_mismatch"
    assert "-40.00" in caught.value.message and "-45.00" in caught.value.message
