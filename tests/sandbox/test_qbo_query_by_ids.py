"""Reading bills back by Id, as the reconciliation does (reference §6): whole objects for an Id list;
a field list is not part of QuickBooks' grammar and is refused, as the strict reading of it says."""

from __future__ import annotations

from sandbox_support import QBO, expense_line, fault_code


def _a_bill(qbo: QBO, amount: float) -> str:
    vendor = qbo.one("Vendor", "DisplayName = 'Great Lakes Fasteners'")["Id"]
    account = qbo.one("Account", "AcctNum = '6100'")["Id"]
    body = {"VendorRef": {"value": vendor}, "Line": [expense_line(account, amount)], "TxnDate": "2026-02-20"}
    return qbo.ok("bill", body)["Bill"]["Id"]


def test_an_id_list_returns_those_bills_whole(qbo: QBO) -> None:
    first, _, third = (_a_bill(qbo, amount) for amount in (10.25, 20.5, 30.75))
    rows = qbo.query(
        f"SELECT * FROM Bill WHERE Id IN ('{first}', '{third}', '999999') MAXRESULTS 1000"
    ).json()
    bills = rows["QueryResponse"]["Bill"]
    assert sorted((b["Id"], b["TotalAmt"]) for b in bills) == sorted([(first, 10.25), (third, 30.75)])
    assert all(
        {"TotalAmt", "Balance", "CurrencyRef", "VendorRef", "Line", "SyncToken"} <= set(b) for b in bills
    )


def test_a_field_list_is_refused(qbo: QBO) -> None:
    response = qbo.query("SELECT Id, TotalAmt FROM Bill WHERE Id IN ('1')")
    assert response.status_code == 400 and fault_code(response) == "4000"
