"""The pure rules of non-US tax and of classes/locations: mixed inclusive and exclusive lines, untaxed
shipping, split allocations, one class per bill, and a US company left exactly as before."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.procurify.schemas import Bill
from connector.procurify.streams import parse_record
from connector.sync.dimensions import Dimensions
from connector.sync.tax import TaxCode, predicted_tax, tax_key
from connector.sync.transform import Books, Held, Mappings, Ref, bill_plan
from tests.security.security_support import CODE_MAPPED, VENDOR_MAPPED, allocation, bill_detail

CA_BOOKS = Books(home_currency="CAD", procurify_base="CAD", line_tax=True, class_tracking="line")
CODES = {
    tax_key("HST ON", "13"): TaxCode("6", "HST ON", True, (("2", Decimal(13)),)),
    tax_key("GST", "5"): TaxCode("3", "GST", True, (("1", Decimal(5)),)),
    tax_key("", "0"): TaxCode("8", "Exempt", True, (("9", Decimal(0)),)),
}
DETAIL = "AccountBasedExpenseLineDetail"


def mappings(books: Books = CA_BOOKS, **kwargs: Any) -> Mappings:
    return Mappings(
        vendors={VENDOR_MAPPED: Ref("56", "Lakeshore", currency="")},
        accounts={CODE_MAPPED: Ref("80", "Office Supplies")},
        books=books,
        **{"tax_codes": CODES, **kwargs},
    )


def item(index: int, amount: str, tax: str, name: str, pct: str, inclusive: bool, allocs: list) -> dict:
    return {
        "id": 9000 + index,
        "description": f"Item {index}",
        "quantity": "1.00",
        "unit_cost": Decimal(amount),
        "total_cost": Decimal(amount),
        "tax_name": name,
        "tax_percentage": pct,
        "tax_amount": Decimal(tax),
        "tax_is_inclusive": inclusive,
        "cost_allocations": allocs,
    }


def bill(items: list[dict], total: str, tax: str, **extra: Any) -> Bill:
    raw = bill_detail(
        items=items,
        total_cost_with_tax=Decimal(total),
        tax_amount=Decimal(tax),
        currency={"id": 1, "name": "CAD", "rate": "1.000000", "base": True, "active": True},
        **extra,
    )
    return parse_record(Bill, raw, "uuid")


def test_a_bill_mixing_inclusive_and_exclusive_lines_is_written_tax_excluded_with_net_lines():
    mixed = bill(
        [
            item(1, "1000.00", "130.00", "HST ON", "13.00", False, [allocation(1, "1000.00")]),
            # 565.00 includes 65.00 of HST, split 300/265 over two allocations.
            item(
                2,
                "565.00",
                "65.00",
                "HST ON",
                "13.00",
                True,
                [allocation(2, "300.00"), allocation(3, "265.00")],
            ),
        ],
        total="1695.00",
        tax="195.00",
    )
    plan = bill_plan(mixed, mappings())
    amounts = [line["Amount"] for line in plan.payload["Line"]]
    assert plan.payload["GlobalTaxCalculation"] == "TaxExcluded"
    assert sum(amounts) == Decimal("1500.00")  # every line net of its tax
    assert amounts[1] + amounts[2] == Decimal("500.00")
    assert predicted_tax(plan.payload["Line"], "TaxExcluded", mappings(), "") == Decimal("195.00")


def test_shipping_goes_untaxed_and_needs_its_own_mapping():
    shipped = bill(
        [item(1, "100.00", "5.00", "GST", "5", False, [allocation(1, "100.00")])],
        total="125.00",
        tax="5.00",
        shipping_amount=Decimal("20.00"),
    )
    plan = bill_plan(shipped, mappings())
    assert [line[DETAIL]["TaxCodeRef"]["value"] for line in plan.payload["Line"]] == ["3", "8"]
    without = {k: v for k, v in CODES.items() if k != tax_key("", "0")}
    with pytest.raises(Held) as held:
        bill_plan(shipped, mappings(tax_codes=without))
    assert held.value.reason_code == "tax_unmapped"
    assert held.value.message.startswith(
        "Tax 0% (no tax in Procurify: shipping, costs, untaxed lines) has no"
    )
    assert (held.value.waiting_on_type, held.value.waiting_on_key) == ("tax_mapping", "|0")


def test_an_inactive_or_sales_only_code_holds_naming_the_tax():
    one = bill([item(1, "100.00", "5.00", "GST", "5.00", False, [allocation(1, "100.00")])], "105.00", "5.00")
    for code in (TaxCode("3", "GST", False, (("1", Decimal(5)),)), TaxCode("3", "GST sales", True, ())):
        with pytest.raises(Held) as held:
            bill_plan(one, mappings(tax_codes={tax_key("GST", "5"): code}))
        assert held.value.reason_code == "tax_code_unusable"
        assert held.value.message.startswith(f"Tax GST 5% is mapped to QuickBooks tax code '{code.name}'")


def test_classes_per_line_or_one_per_bill():
    dims = Dimensions(class_placement="line", classes={4: Ref("20", "Operations")})
    one = bill([item(1, "100.00", "5.00", "GST", "5", False, [allocation(1, "100.00")])], "105.00", "5.00")
    plan = bill_plan(one, mappings(dimensions=dims))
    assert plan.payload["Line"][0][DETAIL]["ClassRef"] == {"value": "20"}
    # The company tracks one class per transaction: the one class of the bill on every line.
    per_txn = Books(home_currency="CAD", line_tax=True, class_tracking="transaction")
    assert bill_plan(one, mappings(books=per_txn, dimensions=dims)).payload["Line"][0][DETAIL]["ClassRef"]
    # Class tracking off in QuickBooks: no class at all, not a failure.
    off = Books(home_currency="CAD", line_tax=True)
    assert "ClassRef" not in bill_plan(one, mappings(books=off, dimensions=dims)).payload["Line"][0][DETAIL]
    unmapped = Dimensions(class_placement="line")
    with pytest.raises(Held) as held:
        bill_plan(one, mappings(dimensions=unmapped))
    assert (held.value.reason_code, held.value.waiting_on_key) == ("class_unmapped", "4")


def test_a_us_company_is_written_as_before():
    us = Books(home_currency="USD", procurify_base="USD")
    plan = bill_plan(parse_record(Bill, bill_detail(), "uuid"), mappings(books=us))
    line = plan.payload["Line"][0]
    assert line["Amount"] == Decimal("1130.00")  # the tax stays in the line
    assert "TaxCodeRef" not in line[DETAIL] and "GlobalTaxCalculation" not in plan.payload


def test_two_classes_on_a_one_class_per_bill_company_hold_the_bill():
    other = allocation(2, "50.00")
    other["budget"]["department"] = {"id": 5, "name": "Sales", "active": True}
    two = bill(
        [item(1, "150.00", "7.50", "GST", "5", False, [allocation(1, "100.00"), other])],
        total="157.50",
        tax="7.50",
    )
    dims = Dimensions(class_placement="line", classes={4: Ref("20", "Operations"), 5: Ref("21", "Sales")})
    per_line = bill_plan(two, mappings(dimensions=dims)).payload["Line"]
    assert [line[DETAIL]["ClassRef"]["value"] for line in per_line] == ["20", "21"]
    per_txn = Books(home_currency="CAD", line_tax=True, class_tracking="transaction")
    with pytest.raises(Held) as held:
        bill_plan(two, mappings(books=per_txn, dimensions=dims))
    assert held.value.reason_code == "one_class_per_bill"
    assert "'Operations', 'Sales'" in held.value.message
