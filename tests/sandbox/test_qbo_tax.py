"""The Canadian company: tax codes on every bill line, QuickBooks' tax arithmetic, classes and
locations switched per company (QBO reference §3 Bill, §14 "Non-US editions", "Classes and locations")."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sandbox_support import FIXED_NOW, QBO, connect, expense_line, fault_code

from sandbox import Sandbox


@pytest.fixture
def ca_sb() -> Sandbox:
    return Sandbox.create(seed="canada", now=FIXED_NOW)


@pytest.fixture
def ca(ca_sb: Sandbox) -> Iterator[QBO]:
    with ca_sb.client() as c:
        yield connect(ca_sb, c)


def _id(qbo: QBO, entity: str, name: str) -> str:
    where = f"DisplayName = '{name}'" if entity == "Vendor" else f"Name = '{name}'"
    return qbo.one(entity, where)["Id"]


def _line(qbo: QBO, amount: float, code: str | None, **detail: Any) -> dict[str, Any]:
    line = expense_line(_id(qbo, "Account", "Office Supplies"), amount)
    if code:
        line["AccountBasedExpenseLineDetail"]["TaxCodeRef"] = {"value": _id(qbo, "TaxCode", code)}
    line["AccountBasedExpenseLineDetail"].update(detail)
    return line


def _bill(qbo: QBO, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    vendor = _id(qbo, "Vendor", "Coastal Office Supply Ltd")
    return {"VendorRef": {"value": vendor}, "Line": lines, "TxnDate": "2026-02-20", **extra}


def _detail(response: httpx.Response) -> str:
    return response.json()["Fault"]["Error"][0]["Detail"]


def test_the_company_says_it_is_canadian_and_what_it_tracks(ca: QBO) -> None:
    info = ca.get(f"companyinfo/{ca.realm_id}").json()["CompanyInfo"]
    prefs = ca.get("preferences").json()["Preferences"]
    assert info["Country"] == "CA"
    assert prefs["CurrencyPrefs"]["HomeCurrency"]["value"] == "CAD"
    assert prefs["TaxPrefs"]["UsingSalesTax"] is True
    accounting = prefs["AccountingInfoPrefs"]
    assert (accounting["ClassTrackingPerTxnLine"], accounting["TrackDepartments"]) == (True, True)
    codes = ca.query("SELECT * FROM TaxCode").json()["QueryResponse"]["TaxCode"]
    assert {c["Name"] for c in codes} >= {"GST", "HST ON", "GST/PST BC", "Zero-rated", "Exempt"}
    assert "HST NS 2019" not in {c["Name"] for c in codes}  # inactive: only with an Active filter
    rates = ca.query("SELECT * FROM TaxRate").json()["QueryResponse"]["TaxRate"]
    assert {r["Name"]: r["RateValue"] for r in rates}["HST ON (Purchase)"] == 13.0


def test_a_line_without_a_tax_code_is_refused(ca: QBO) -> None:
    response = ca.post("bill", _bill(ca, [_line(ca, 100.0, "GST"), _line(ca, 50.0, None)]))
    assert response.status_code == 400
    assert fault_code(response) == "6000"
    assert "GST/HST rate" in _detail(response)
    assert ca.sb.qbo.objects(ca.realm_id, "Bill") == []


@pytest.mark.parametrize(
    ("code", "problem"),
    [("PST BC Sales", "no purchase tax rate"), ("HST NS 2019", "inactive")],
)
def test_a_sales_only_or_inactive_code_is_refused(ca: QBO, code: str, problem: str) -> None:
    row = ca.query(f"SELECT * FROM TaxCode WHERE Name = '{code}' AND Active IN (true, false)").json()
    line = expense_line(_id(ca, "Account", "Office Supplies"), 10.0)
    line["AccountBasedExpenseLineDetail"]["TaxCodeRef"] = {"value": row["QueryResponse"]["TaxCode"][0]["Id"]}
    response = ca.post("bill", _bill(ca, [line]))
    assert response.status_code == 400
    assert fault_code(response) == ("6000" if problem != "inactive" else "610")


def test_tax_excluded_adds_tax_per_rate_on_the_summed_lines(ca: QBO) -> None:
    # 21.30 twice at GST 5%: per line 1.065 each, per rate 42.60 x 5% = 2.13 (QuickBooks' way).
    lines = [_line(ca, 21.30, "GST"), _line(ca, 21.30, "GST"), _line(ca, 379.00, "GST/PST BC")]
    bill = ca.ok("bill", _bill(ca, lines, GlobalTaxCalculation="TaxExcluded"))["Bill"]
    gst = (Decimal("421.60") * 5 / 100).quantize(Decimal("0.01"))
    pst = (Decimal("379.00") * 7 / 100).quantize(Decimal("0.01"))
    assert Decimal(str(bill["TxnTaxDetail"]["TotalTax"])) == gst + pst == Decimal("47.61")
    assert Decimal(str(bill["TotalAmt"])) == Decimal("421.60") + gst + pst
    assert Decimal(str(bill["Balance"])) == Decimal(str(bill["TotalAmt"]))


def test_tax_inclusive_finds_the_tax_inside_the_lines(ca: QBO) -> None:
    bill = ca.ok("bill", _bill(ca, [_line(ca, 1130.00, "HST ON")], GlobalTaxCalculation="TaxInclusive"))[
        "Bill"
    ]
    assert Decimal(str(bill["TotalAmt"])) == Decimal("1130.00")
    assert Decimal(str(bill["TxnTaxDetail"]["TotalTax"])) == Decimal("130.00")


def test_the_tax_mode_defaults_to_excluded_and_must_be_known(ca: QBO) -> None:
    bill = ca.ok("bill", _bill(ca, [_line(ca, 100.0, "HST ON")]))["Bill"]
    assert (bill["GlobalTaxCalculation"], bill["TotalAmt"]) == ("TaxExcluded", 113.0)
    response = ca.post("bill", _bill(ca, [_line(ca, 100.0, "HST ON")], GlobalTaxCalculation="TaxIncluded"))
    assert fault_code(response) == "2010"


def test_a_us_company_keeps_lines_without_tax_codes(ca_sb: Sandbox) -> None:
    us_sb = Sandbox.create(seed="distributor", now=FIXED_NOW)
    with us_sb.client() as c:
        us = connect(us_sb, c)
        vendor = _id(us, "Vendor", "Great Lakes Fasteners")
        line = expense_line(_id(us, "Account", "Office Supplies"), 40.0)
        bill = us.ok("bill", {"VendorRef": {"value": vendor}, "Line": [line], "TxnDate": "2026-02-20"})[
            "Bill"
        ]
        assert bill["TotalAmt"] == 40.0 and "TxnTaxDetail" not in bill
        assert us.get("preferences").json()["Preferences"]["TaxPrefs"]["UsingSalesTax"] is False


def test_classes_and_locations_land_on_lines_and_bill(ca: QBO) -> None:
    sales, toronto = _id(ca, "Class", "Sales"), _id(ca, "Department", "Toronto")
    lines = [_line(ca, 100.0, "HST ON", ClassRef={"value": sales})]
    bill = ca.ok("bill", _bill(ca, lines, DepartmentRef={"value": toronto}))["Bill"]
    assert bill["DepartmentRef"] == {"value": toronto, "name": "Toronto"}
    assert bill["Line"][0]["AccountBasedExpenseLineDetail"]["ClassRef"]["name"] == "Sales"


def test_unknown_or_inactive_class_and_location_are_refused(ca: QBO) -> None:
    retired = ca.query("SELECT * FROM Class WHERE Active = false").json()["QueryResponse"]["Class"][0]["Id"]
    inactive = ca.post("bill", _bill(ca, [_line(ca, 10.0, "GST", ClassRef={"value": retired})]))
    unknown = ca.post("bill", _bill(ca, [_line(ca, 10.0, "GST", ClassRef={"value": "99999"})]))
    nowhere = ca.post("bill", _bill(ca, [_line(ca, 10.0, "GST")], DepartmentRef={"value": "99999"}))
    assert [fault_code(r) for r in (inactive, unknown, nowhere)] == ["610", "2500", "2500"]


def test_classes_and_locations_are_refused_while_switched_off(ca: QBO) -> None:
    ca.sb.qbo.set_preferences(ca.realm_id, class_tracking_per_line=False, track_departments=False)
    sales, toronto = _id(ca, "Class", "Sales"), _id(ca, "Department", "Toronto")
    with_class = ca.post("bill", _bill(ca, [_line(ca, 10.0, "GST", ClassRef={"value": sales})]))
    with_location = ca.post("bill", _bill(ca, [_line(ca, 10.0, "GST")], DepartmentRef={"value": toronto}))
    assert "Class tracking is turned off" in _detail(with_class)
    assert "Location tracking is turned off" in _detail(with_location)
    assert ca.sb.qbo.objects(ca.realm_id, "Bill") == []


def test_one_class_per_transaction_refuses_two_classes_on_one_bill(ca: QBO) -> None:
    ca.sb.qbo.set_preferences(ca.realm_id, class_tracking_per_line=False, class_tracking_per_txn=True)
    sales, ops = _id(ca, "Class", "Sales"), _id(ca, "Class", "Operations")
    lines = [
        _line(ca, 10.0, "GST", ClassRef={"value": sales}),
        _line(ca, 5.0, "GST", ClassRef={"value": ops}),
    ]
    assert fault_code(ca.post("bill", _bill(ca, lines))) == "6000"
    same = [
        _line(ca, 10.0, "GST", ClassRef={"value": sales}),
        _line(ca, 5.0, "GST", ClassRef={"value": sales}),
    ]
    assert ca.ok("bill", _bill(ca, same))["Bill"]["TotalAmt"] == 15.75


def test_the_control_api_switches_class_and_location_tracking(ca_sb: Sandbox, ca: QBO) -> None:
    response = ca.client.post(
        "http://sandbox.test/_sandbox/qbo/" + ca.realm_id + "/preferences",
        json={"TrackDepartments": False, "ClassTrackingPerTxnLine": "false"},
    )
    assert response.status_code == 200, response.text
    accounting = ca.get("preferences").json()["Preferences"]["AccountingInfoPrefs"]
    assert (accounting["TrackDepartments"], accounting["ClassTrackingPerTxnLine"]) == (False, False)


def test_the_procurify_side_carries_inclusive_and_exclusive_tax(ca_sb: Sandbox) -> None:
    site = ca_sb.procurify.site("maplewood")
    from sandbox.procurify_render import bill_detail

    by_number = {b["invoice_number"]: bill_detail(site, b, FIXED_NOW.date()) for b in site.bills.values()}
    software = by_number["NS-INV-7001"]
    item = software["items"][0]
    assert (item["tax_is_inclusive"], item["tax_amount"], item["total_cost_with_tax"]) == (
        True,
        130.0,
        1130.0,
    )
    assert (software["total_cost_with_tax"], software["inclusive_tax_amount"]) == (1130.0, 130.0)
    office = by_number["COS-55120"]
    assert {i["tax_name"] for i in office["items"]} == {"GST", "GST/PST BC"}
    assert office["total_cost_with_tax"] == round(office["total_cost"] + office["tax_amount"], 2)
    branches = {
        a["budget"]["department"]["branch"]["name"]
        for b in by_number.values()
        for i in b["items"]
        for a in i["cost_allocations"]
    }
    assert branches == {"Vancouver HQ", "Toronto Branch"}
