"""QBO batch endpoint (reference §7)."""

from __future__ import annotations

from sandbox_support import QBO, expense_line, fault_code

from sandbox import Sandbox


def test_it_answers_each_batch_item_with_its_own_result_or_fault(qbo: QBO) -> None:
    vendor = qbo.one("Vendor", "DisplayName = 'Great Lakes Fasteners'")
    account = qbo.one("Account", "AcctNum = '6100'")
    bill = qbo.ok("bill", {"VendorRef": {"value": vendor["Id"]}, "Line": [expense_line(account["Id"], 9)]})[
        "Bill"
    ]
    items = [
        {"bId": "b1", "operation": "create", "Vendor": {"DisplayName": "Batch Vendor"}},
        {"bId": "b2", "operation": "update", "Bill": {"Id": bill["Id"], "SyncToken": "7", "sparse": True}},
        {"bId": "b3", "operation": "delete", "Bill": {"Id": bill["Id"], "SyncToken": "0"}},
        {"bId": "b4", "Query": "SELECT * FROM Term"},
        {"bId": "b5", "operation": "create", "Vendor": {"DisplayName": "Summit Steel & Wire"}},
    ]
    response = qbo.post("batch", {"BatchItemRequest": items})
    assert response.status_code == 200
    results = {r["bId"]: r for r in response.json()["BatchItemResponse"]}
    assert results["b1"]["Vendor"]["DisplayName"] == "Batch Vendor"
    assert results["b2"]["Fault"]["Error"][0]["code"] == "5010"
    assert results["b3"]["Bill"]["status"] == "Deleted"
    assert {t["Name"] for t in results["b4"]["QueryResponse"]["Term"]} >= {"Net 30"}
    assert results["b5"]["Fault"]["Error"][0]["code"] == "6240"


def test_it_rejects_more_than_30_items_with_1040(qbo: QBO) -> None:
    items = [{"bId": f"b{n}", "Query": "SELECT * FROM Term"} for n in range(31)]
    response = qbo.post("batch", {"BatchItemRequest": items})
    assert response.status_code == 400 and fault_code(response) == "1040"
    assert qbo.post("batch", {"BatchItemRequest": items[:30]}).status_code == 200


def test_it_hides_objects_created_earlier_in_the_same_batch(sb: Sandbox, qbo: QBO) -> None:
    line = expense_line(qbo.one("Account", "AcctNum = '6100'")["Id"], 5)
    next_id = str(sb.qbo.realm(qbo.realm_id).next_id)
    items = [
        {"bId": "v", "operation": "create", "Vendor": {"DisplayName": "Batch Twin"}},
        {"bId": "b", "operation": "create", "Bill": {"VendorRef": {"value": next_id}, "Line": [line]}},
    ]
    results = qbo.post("batch", {"BatchItemRequest": items}).json()["BatchItemResponse"]
    assert results[0]["Vendor"]["Id"] == next_id
    assert results[1]["Fault"]["Error"][0]["code"] == "2500"
    assert qbo.post("bill", {"VendorRef": {"value": next_id}, "Line": [line]}).status_code == 200
