"""Negative totals and the VendorCredit entity (docs/qbo-facts.md, "Credits")."""

from __future__ import annotations

from sandbox_support import QBO, expense_line, fault_code


def _account(qbo: QBO, number: str) -> dict:
    return qbo.one("Account", f"AcctNum = '{number}' AND Active IN (true, false)")


def _vendor(qbo: QBO, name: str) -> dict:
    return qbo.one("Vendor", f"DisplayName = '{name}' AND Active IN (true, false)")


def _payables(qbo: QBO, currency: str) -> dict:
    rows = qbo.query("SELECT * FROM Account WHERE AccountType = 'Accounts Payable'").json()
    return next(a for a in rows["QueryResponse"]["Account"] if a["CurrencyRef"]["value"] == currency)


def _credit(qbo: QBO, *amounts: float, **extra) -> dict:
    account = _account(qbo, "5000")["Id"]
    return {
        "VendorRef": {"value": _vendor(qbo, "Great Lakes Fasteners")["Id"]},
        "Line": [expense_line(account, amount) for amount in amounts],
        "TxnDate": "2026-02-20",
        "DocNumber": "CN-100",
        "PrivateNote": "procurify:bill:abc (Procurify bill #1)",
        **extra,
    }


def test_it_refuses_a_bill_whose_total_is_negative_with_6000(qbo: QBO) -> None:
    response = qbo.post("bill", _credit(qbo, 40.00, -65.25))

    assert response.status_code == 400 and fault_code(response) == "6000"
    assert "Transaction amount must be positive" in response.json()["Fault"]["Error"][0]["Detail"]
    assert qbo.sb.qbo.objects(qbo.realm_id, "Bill") == []


def test_it_accepts_a_negative_line_in_a_bill_that_totals_zero_or_more(qbo: QBO) -> None:
    bill = qbo.ok("bill", _credit(qbo, 200.00, -35.10))["Bill"]

    assert bill["TotalAmt"] == 164.90 and bill["Balance"] == 164.90
    assert [line["Amount"] for line in bill["Line"]] == [200.00, -35.10]


def test_it_refuses_an_update_that_makes_a_bill_negative(qbo: QBO) -> None:
    bill = qbo.ok("bill", _credit(qbo, 200.00))["Bill"]
    account = _account(qbo, "5000")["Id"]
    body = {"Id": bill["Id"], "SyncToken": bill["SyncToken"], "sparse": True}
    body["Line"] = [expense_line(account, 200.00), expense_line(account, -200.01)]

    response = qbo.post("bill", body)

    assert fault_code(response) == "6000"
    assert qbo.get(f"bill/{bill['Id']}").json()["Bill"]["TotalAmt"] == 200.00


def test_it_creates_a_vendor_credit_and_computes_its_total_and_balance(qbo: QBO) -> None:
    credit = qbo.ok("vendorcredit", _credit(qbo, 120.00, -20.55))["VendorCredit"]

    assert credit["TotalAmt"] == 99.45 and credit["Balance"] == 99.45
    assert credit["SyncToken"] == "0" and credit["APAccountRef"]["value"] == _payables(qbo, "USD")["Id"]
    assert qbo.get(f"vendorcredit/{credit['Id']}").json()["VendorCredit"]["DocNumber"] == "CN-100"
    found = qbo.one("VendorCredit", f"DocNumber = 'CN-100' AND VendorRef = '{credit['VendorRef']['value']}'")
    assert found["Id"] == credit["Id"]


def test_it_is_as_strict_as_a_bill_about_vendor_lines_currency_and_sign(qbo: QBO) -> None:
    body = _credit(qbo, 10.00)
    del body["VendorRef"]
    assert fault_code(qbo.post("vendorcredit", body)) == "2020"
    assert fault_code(qbo.post("vendorcredit", {**_credit(qbo, 10.00), "Line": []})) == "2020"
    assert fault_code(qbo.post("vendorcredit", _credit(qbo, -10.00))) == "6000"
    euro = _credit(qbo, 10.00, CurrencyRef={"value": "EUR"})
    assert fault_code(qbo.post("vendorcredit", euro)) == "6000"  # the vendor bills in USD
    wrong_ap = _credit(qbo, 10.00, APAccountRef={"value": _payables(qbo, "EUR")["Id"]})
    assert fault_code(qbo.post("vendorcredit", wrong_ap)) == "6000"
    assert fault_code(qbo.post("vendorcredit", _credit(qbo, 10.00, DueDate="2026-03-20"))) == "2010"
    assert qbo.sb.qbo.objects(qbo.realm_id, "VendorCredit") == []


def test_it_updates_a_vendor_credit_with_its_sync_token_sparse_or_full(qbo: QBO) -> None:
    credit = qbo.ok("vendorcredit", _credit(qbo, 50.00))["VendorCredit"]
    stale = qbo.post("vendorcredit", {"Id": credit["Id"], "SyncToken": "9", "sparse": True, "DocNumber": "X"})
    assert fault_code(stale) == "5010"

    sparse = {"Id": credit["Id"], "SyncToken": "0", "sparse": True, "DocNumber": "CN-101"}
    updated = qbo.ok("vendorcredit", sparse)["VendorCredit"]
    assert updated["SyncToken"] == "1" and updated["DocNumber"] == "CN-101" and updated["TotalAmt"] == 50.00

    full = {k: v for k, v in _credit(qbo, 75.25).items() if k != "PrivateNote"}
    replaced = qbo.ok("vendorcredit", {**full, "Id": credit["Id"], "SyncToken": "1"})["VendorCredit"]
    assert replaced["TotalAmt"] == 75.25 and "PrivateNote" not in replaced


def test_it_deletes_an_unapplied_credit_and_refuses_an_applied_one(qbo: QBO) -> None:
    first = qbo.ok("vendorcredit", _credit(qbo, 30.00))["VendorCredit"]
    deleted = qbo.ok("vendorcredit", {"Id": first["Id"], "SyncToken": "0"}, operation="delete")
    assert deleted["VendorCredit"]["status"] == "Deleted"
    assert fault_code(qbo.get(f"vendorcredit/{first['Id']}")) == "610"

    second = qbo.ok("vendorcredit", _credit(qbo, 30.00, DocNumber="CN-102"))["VendorCredit"]
    bill = qbo.ok("bill", _credit(qbo, 100.00, DocNumber="GLF-1"))["Bill"]
    applied = qbo.sb.qbo.apply_vendor_credit(qbo.realm_id, second["Id"], bill["Id"])
    assert applied["Balance"] == 0.0
    assert qbo.get(f"bill/{bill['Id']}").json()["Bill"]["Balance"] == 70.00

    refused = qbo.post(
        "vendorcredit", {"Id": second["Id"], "SyncToken": applied["SyncToken"]}, operation="delete"
    )
    assert fault_code(refused) == "6000"
    assert len(qbo.sb.qbo.objects(qbo.realm_id, "VendorCredit")) == 1


def test_it_writes_vendor_credits_in_a_batch_and_answers_each_item(qbo: QBO) -> None:
    items = [
        {"bId": "b1", "operation": "create", "VendorCredit": _credit(qbo, 12.34)},
        {"bId": "b2", "operation": "create", "VendorCredit": _credit(qbo, -12.34, DocNumber="CN-9")},
        {"bId": "b3", "operation": "create", "Bill": _credit(qbo, -1.00, DocNumber="N-1")},
    ]
    answer = qbo.ok("batch", {"BatchItemRequest": items})["BatchItemResponse"]

    assert answer[0]["VendorCredit"]["TotalAmt"] == 12.34
    assert answer[1]["Fault"]["Error"][0]["code"] == "6000"
    assert answer[2]["Fault"]["Error"][0]["code"] == "6000"
    assert [c["TotalAmt"] for c in qbo.sb.qbo.objects(qbo.realm_id, "VendorCredit")] == [12.34]
