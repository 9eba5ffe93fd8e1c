"""QBO create/read/update/delete and the rules every write enforces (reference §3, §4, §5)."""

from __future__ import annotations

from sandbox_support import QBO, expense_line, fault_code

from sandbox import Sandbox


def _account(qbo: QBO, number: str) -> dict:
    return qbo.one("Account", f"AcctNum = '{number}' AND Active IN (true, false)")


def _vendor(qbo: QBO, name: str) -> dict:
    escaped = name.replace("'", "\\'")
    return qbo.one("Vendor", f"DisplayName = '{escaped}' AND Active IN (true, false)")


def _bill(qbo: QBO, **extra) -> dict:
    body = {
        "VendorRef": {"value": _vendor(qbo, "Great Lakes Fasteners")["Id"]},
        "Line": [expense_line(_account(qbo, "6100")["Id"], 125.50)],
        "TxnDate": "2026-02-20",
        **extra,
    }
    return body


def test_it_creates_a_vendor_with_id_and_sync_token_zero(qbo: QBO) -> None:
    vendor = qbo.ok("vendor", {"DisplayName": "Brightline Electrical Supply"})["Vendor"]
    assert vendor["SyncToken"] == "0" and vendor["Id"] and vendor["Active"] is True
    assert vendor["MetaData"]["CreateTime"].endswith(("-08:00", "-07:00"))
    assert qbo.get(f"vendor/{vendor['Id']}").json()["Vendor"]["DisplayName"] == "Brightline Electrical Supply"


def test_it_rejects_a_display_name_used_by_a_customer_with_6240(qbo: QBO) -> None:
    response = qbo.post("vendor", {"DisplayName": "Summit Steel & Wire"})
    assert response.status_code == 400 and fault_code(response) == "6240"
    assert "Id=" in response.json()["Fault"]["Error"][0]["Detail"]


def test_it_rejects_a_display_name_used_by_an_employee_or_inactive_vendor(qbo: QBO) -> None:
    assert fault_code(qbo.post("vendor", {"DisplayName": "Jordan Ellis"})) == "6240"
    assert fault_code(qbo.post("vendor", {"DisplayName": "delta freight logistics"})) == "6240"


def test_it_rejects_a_colon_in_display_name_with_2040(qbo: QBO) -> None:
    response = qbo.post("vendor", {"DisplayName": "Parent:Child"})
    assert fault_code(response) == "2040"
    assert response.json()["Fault"]["type"] == "ValidationFault"


def test_it_creates_a_bill_and_computes_totals(qbo: QBO) -> None:
    body = _bill(qbo)
    body["Line"].append(expense_line(_account(qbo, "6200")["Id"], 74.25))
    bill = qbo.ok("bill", body)["Bill"]
    assert bill["TotalAmt"] == 199.75 and bill["Balance"] == 199.75
    assert [line["Id"] for line in bill["Line"]] == ["1", "2"]
    assert bill["APAccountRef"]["name"] == "Accounts Payable (A/P)"
    assert isinstance(bill["TotalAmt"], float)


def test_it_requires_vendor_and_lines_with_2020(qbo: QBO) -> None:
    body = _bill(qbo)
    del body["VendorRef"]
    assert fault_code(qbo.post("bill", body)) == "2020"
    assert fault_code(qbo.post("bill", {**_bill(qbo), "Line": []})) == "2020"


def test_it_rejects_a_doc_number_longer_than_21_with_2050(qbo: QBO) -> None:
    response = qbo.post("bill", _bill(qbo, DocNumber="ACME-INV-2024-000017-REVISED"))
    error = response.json()["Fault"]["Error"][0]
    assert error["code"] == "2050" and "Max:21" in error["Detail"] and error["element"] == "DocNumber"


def test_it_rejects_an_inactive_vendor_with_610(qbo: QBO) -> None:
    body = _bill(qbo, VendorRef={"value": _vendor(qbo, "Delta Freight Logistics")["Id"]})
    response = qbo.post("bill", body)
    assert fault_code(response) == "610"
    assert "made inactive" in response.json()["Fault"]["Error"][0]["Detail"]


def test_it_rejects_an_inactive_expense_account_with_610(qbo: QBO) -> None:
    body = _bill(qbo, Line=[expense_line(_account(qbo, "6500")["Id"], 10)])
    assert fault_code(qbo.post("bill", body)) == "610"


def test_it_rejects_an_unknown_account_with_2500(qbo: QBO) -> None:
    assert fault_code(qbo.post("bill", _bill(qbo, Line=[expense_line("99999", 10)]))) == "2500"


def test_it_rejects_a_non_expense_account_on_an_expense_line_with_6430(qbo: QBO) -> None:
    body = _bill(qbo, Line=[expense_line(_account(qbo, "1500")["Id"], 10)])
    assert fault_code(qbo.post("bill", body)) == "6430"


def test_it_rejects_bills_dated_in_a_closed_period_with_6200(sb: Sandbox, qbo: QBO) -> None:
    close = qbo.get("preferences").json()["Preferences"]["AccountingInfoPrefs"]["BookCloseDate"]
    assert fault_code(qbo.post("bill", _bill(qbo, TxnDate=close))) == "6200"
    sb.qbo.set_book_close_date(qbo.realm_id, None)
    assert qbo.post("bill", _bill(qbo, TxnDate=close)).status_code == 200


def test_it_rejects_a_duplicate_doc_number_per_vendor_unless_allowed(qbo: QBO) -> None:
    qbo.ok("bill", _bill(qbo, DocNumber="GLF-1"))
    assert fault_code(qbo.post("bill", _bill(qbo, DocNumber="GLF-1"))) == "6140"
    assert qbo.post("bill", _bill(qbo, DocNumber="GLF-1"), include="allowduplicatedocnum").status_code == 200
    other_vendor = {"value": _vendor(qbo, "Northstar Office Products")["Id"]}
    assert qbo.post("bill", _bill(qbo, DocNumber="GLF-1", VendorRef=other_vendor)).status_code == 200


def test_it_rejects_a_stale_sync_token_with_5010(sb: Sandbox, qbo: QBO) -> None:
    bill = qbo.ok("bill", _bill(qbo))["Bill"]
    sb.qbo.edit_as_user(qbo.realm_id, "Bill", bill["Id"], PrivateNote="edited in QBO")
    response = qbo.post(
        "bill", {"Id": bill["Id"], "SyncToken": bill["SyncToken"], "sparse": True, "DueDate": "2026-04-01"}
    )
    assert response.status_code == 400 and fault_code(response) == "5010"
    assert response.json()["Fault"]["Error"][0]["Message"] == "Stale Object Error"
    assert qbo.get(f"bill/{bill['Id']}").json()["Bill"]["SyncToken"] == "1"


def test_it_keeps_other_fields_on_a_sparse_update(qbo: QBO) -> None:
    bill = qbo.ok("bill", _bill(qbo, PrivateNote="procurify:bill:1", DocNumber="A-1"))["Bill"]
    updated = qbo.ok("bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "DueDate": "2026-04-01"})[
        "Bill"
    ]
    assert updated["PrivateNote"] == "procurify:bill:1" and updated["DocNumber"] == "A-1"
    assert updated["DueDate"] == "2026-04-01" and updated["SyncToken"] == "1"


def test_it_clears_omitted_fields_on_a_full_update(qbo: QBO) -> None:
    bill = qbo.ok("bill", _bill(qbo, PrivateNote="procurify:bill:1", DocNumber="A-2"))["Bill"]
    full = {k: v for k, v in bill.items() if k != "PrivateNote"}
    updated = qbo.ok("bill", full)["Bill"]
    assert "PrivateNote" not in updated
    assert updated["DocNumber"] == "A-2"


def test_it_replaces_all_lines_when_a_sparse_update_sends_line(qbo: QBO) -> None:
    body = _bill(qbo)
    body["Line"].append(expense_line(_account(qbo, "6200")["Id"], 10))
    bill = qbo.ok("bill", body)["Bill"]
    keep = bill["Line"][1]
    updated = qbo.ok("bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "Line": [keep]})["Bill"]
    assert [line["Id"] for line in updated["Line"]] == [keep["Id"]]
    assert updated["TotalAmt"] == 10.0


def test_it_deletes_a_bill_but_not_a_vendor(qbo: QBO) -> None:
    bill = qbo.ok("bill", _bill(qbo))["Bill"]
    deleted = qbo.ok("bill", {"Id": bill["Id"], "SyncToken": "0"}, operation="delete")["Bill"]
    assert deleted == {"status": "Deleted", "domain": "QBO", "Id": bill["Id"]}
    assert fault_code(qbo.get(f"bill/{bill['Id']}")) == "610"
    vendor = _vendor(qbo, "Great Lakes Fasteners")
    response = qbo.post("vendor", {"Id": vendor["Id"], "SyncToken": vendor["SyncToken"]}, operation="delete")
    assert response.status_code == 400


def test_it_deactivates_a_vendor_and_hides_it_from_default_queries(qbo: QBO) -> None:
    vendor = _vendor(qbo, "Great Lakes Fasteners")
    qbo.ok("vendor", {"Id": vendor["Id"], "SyncToken": vendor["SyncToken"], "sparse": True, "Active": False})
    plain = qbo.query("SELECT * FROM Vendor WHERE DisplayName = 'Great Lakes Fasteners'").json()
    assert plain["QueryResponse"] == {}
    assert _vendor(qbo, "Great Lakes Fasteners")["Active"] is False


def test_it_links_bill_lines_to_po_lines_and_drops_invalid_links(qbo: QBO) -> None:
    vendor_id = _vendor(qbo, "Great Lakes Fasteners")["Id"]
    account_id = _account(qbo, "5000")["Id"]
    po = qbo.ok("purchaseorder", {"VendorRef": {"value": vendor_id}, "Line": [expense_line(account_id, 250)]})
    po = po["PurchaseOrder"]
    assert po["POStatus"] == "Open" and po["TotalAmt"] == 250.0
    good = {"TxnId": po["Id"], "TxnType": "PurchaseOrder", "TxnLineId": po["Line"][0]["Id"]}
    bad = {"TxnId": po["Id"], "TxnType": "PurchaseOrder", "TxnLineId": "999"}
    lines = [
        {**expense_line(account_id, 250), "LinkedTxn": [good]},
        {**expense_line(account_id, 5), "LinkedTxn": [bad]},
    ]
    bill = qbo.ok("bill", _bill(qbo, Line=lines))["Bill"]
    assert bill["Line"][0]["LinkedTxn"] == [good]
    assert "LinkedTxn" not in bill["Line"][1]
    assert qbo.get(f"purchaseorder/{po['Id']}").json()["PurchaseOrder"]["LinkedTxn"] == [
        {"TxnId": bill["Id"], "TxnType": "Bill"}
    ]


def test_it_marks_a_bill_paid_with_a_bill_payment(sb: Sandbox, qbo: QBO) -> None:
    bill = qbo.ok("bill", _bill(qbo))["Bill"]
    sb.qbo.mark_bill_paid(qbo.realm_id, bill["Id"])
    paid = qbo.get(f"bill/{bill['Id']}").json()["Bill"]
    assert paid["Balance"] == 0 and paid["TotalAmt"] == 125.5
    assert paid["LinkedTxn"][0]["TxnType"] == "BillPayment"
    response = qbo.post("bill", {"Id": bill["Id"], "SyncToken": paid["SyncToken"]}, operation="delete")
    assert fault_code(response) == "6000"


def test_it_keeps_the_balance_paid_after_a_later_update(sb: Sandbox, qbo: QBO) -> None:
    bill = qbo.ok("bill", _bill(qbo))["Bill"]
    paid = sb.qbo.mark_bill_paid(qbo.realm_id, bill["Id"])
    after = qbo.ok(
        "bill", {"Id": bill["Id"], "SyncToken": paid["SyncToken"], "sparse": True, "DocNumber": "X"}
    )
    assert after["Bill"]["Balance"] == 0


def test_it_uses_the_vendor_currency_and_rejects_a_mismatch(qbo: QBO) -> None:
    vendor = _vendor(qbo, "Müller Präzisionsteile GmbH")
    bill = qbo.ok("bill", _bill(qbo, VendorRef={"value": vendor["Id"]}))["Bill"]
    assert bill["CurrencyRef"]["value"] == "EUR" and bill["ExchangeRate"] == 1.08
    assert bill["APAccountRef"]["name"].endswith("EUR")
    wrong = _bill(qbo, VendorRef={"value": vendor["Id"]}, CurrencyRef={"value": "CAD"})
    assert fault_code(qbo.post("bill", wrong)) == "6000"


def test_it_replays_a_requestid_without_writing_twice(sb: Sandbox, qbo: QBO) -> None:
    before = len(sb.qbo.objects(qbo.realm_id, "Bill"))
    first = qbo.post("bill", _bill(qbo, DocNumber="RQ-1"), requestid="req-123")
    second = qbo.post("bill", _bill(qbo, DocNumber="RQ-1"), requestid="req-123")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert len(sb.qbo.objects(qbo.realm_id, "Bill")) == before + 1


def test_it_treats_requestids_per_realm(client) -> None:
    from sandbox_support import connect

    two = Sandbox.create(seed="empty", tenants=2)
    with two.client() as c:
        for realm_id in two.realm_ids:
            conn = connect(two, c, realm_id)
            assert conn.post("vendor", {"DisplayName": "Same Vendor"}, requestid="shared").status_code == 200
    assert all(len(two.qbo.objects(r, "Vendor")) == 1 for r in two.realm_ids)


def test_it_reads_company_info_and_preferences(qbo: QBO) -> None:
    info = qbo.get(f"companyinfo/{qbo.realm_id}").json()["CompanyInfo"]
    assert info["CompanyName"] == "Northwind Industrial Supply"
    prefs = qbo.get("preferences").json()["Preferences"]
    assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is True
    assert prefs["CurrencyPrefs"]["HomeCurrency"]["value"] == "USD"


def test_it_edits_as_a_user_and_bumps_the_sync_token(sb: Sandbox, qbo: QBO) -> None:
    vendor = _vendor(qbo, "Northstar Office Products")
    edited = sb.qbo.edit_as_user(qbo.realm_id, "Vendor", vendor["Id"], CompanyName="Northstar")
    assert edited["SyncToken"] == str(int(vendor["SyncToken"]) + 1)
    assert edited["MetaData"]["LastUpdatedTime"] >= vendor["MetaData"]["LastUpdatedTime"]
