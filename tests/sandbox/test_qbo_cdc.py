"""Change data capture, changes made by a person in QuickBooks, and closed books (QBO reference §8, §14)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sandbox_support import QBO, expense_line, fault_code

from sandbox import Sandbox
from sandbox.qbo_errors import qbo_time


def _bill(qbo: QBO, amount: float = 40.0, **extra) -> dict:
    vendor = qbo.one("Vendor", "DisplayName = 'Great Lakes Fasteners'")
    account = qbo.one("Account", "AcctNum = '6100'")
    body = {"VendorRef": {"value": vendor["Id"]}, "Line": [expense_line(account["Id"], amount)]}
    return qbo.ok("bill", {**body, "TxnDate": "2026-02-20", **extra})["Bill"]


def _cdc(qbo: QBO, entities: str, since) -> httpx.Response:
    return qbo.get(
        "cdc", entities=entities, changedSince=since if isinstance(since, str) else qbo_time(since)
    )


def _blocks(response: httpx.Response) -> dict[str, dict]:
    assert response.status_code == 200, response.text
    blocks = response.json()["CDCResponse"][0]["QueryResponse"]
    return {next((k for k in b if k[0].isupper()), f"empty{i}"): b for i, b in enumerate(blocks)}


def _reads(sb: Sandbox, qbo: QBO, endpoint: str = "read:cdc") -> int:
    return sb.qbo.stats(qbo.realm_id)["by_endpoint"].get(endpoint, 0)


def test_cdc_answers_changed_objects_in_full_and_deleted_ones_as_tombstones(sb: Sandbox, qbo: QBO) -> None:
    since = sb.clock.now()
    sb.clock.advance(minutes=1)
    kept = _bill(qbo, DocNumber="CDC-1")
    gone = _bill(qbo, DocNumber="CDC-2")
    sb.qbo.delete_as_user(qbo.realm_id, "Bill", gone["Id"])

    blocks = _blocks(_cdc(qbo, "Bill,PurchaseOrder,Vendor", since))

    bills = {b["Id"]: b for b in blocks["Bill"]["Bill"]}
    assert bills[kept["Id"]]["DocNumber"] == "CDC-1" and bills[kept["Id"]]["TotalAmt"] == 40.0
    assert bills[gone["Id"]]["status"] == "Deleted"
    assert set(bills[gone["Id"]]) == {"Id", "status", "domain", "MetaData"}
    assert blocks["Bill"]["totalCount"] == 2
    # One block per entity asked for, in order, even when nothing changed.
    assert len(_cdc(qbo, "Bill,PurchaseOrder,Vendor", since).json()["CDCResponse"][0]["QueryResponse"]) == 3


def test_cdc_leaves_out_what_changed_before_changed_since(sb: Sandbox, qbo: QBO) -> None:
    old = _bill(qbo, DocNumber="OLD-1")
    sb.clock.advance(minutes=5)
    since = sb.clock.now()
    sb.clock.advance(minutes=1)
    sb.qbo.edit_as_user(qbo.realm_id, "Bill", old["Id"], DocNumber="OLD-1-EDIT")

    assert [b["DocNumber"] for b in _blocks(_cdc(qbo, "Bill", since))["Bill"]["Bill"]] == ["OLD-1-EDIT"]
    sb.clock.advance(minutes=1)
    assert "Bill" not in _blocks(_cdc(qbo, "Bill", sb.clock.now()))


def test_cdc_is_one_metered_read_per_call_whatever_the_entities(sb: Sandbox, qbo: QBO) -> None:
    before = sb.qbo.stats(qbo.realm_id)["reads"]
    _cdc(qbo, "Bill,PurchaseOrder,Vendor", sb.clock.now() - timedelta(days=1))
    assert sb.qbo.stats(qbo.realm_id)["reads"] == before + 1
    assert _reads(sb, qbo) == 1


def test_cdc_refuses_bad_parameters_with_qbo_faults_and_counts_no_read(sb: Sandbox, qbo: QBO) -> None:
    now = sb.clock.now()
    cases = [
        qbo.get("cdc", changedSince=qbo_time(now)),  # no entities
        qbo.get("cdc", entities="Bill"),  # no changedSince
        _cdc(qbo, "Bill,TaxCode", now),  # an entity CDC does not support
        _cdc(qbo, "Bill", "yesterday"),
        _cdc(qbo, "Bill", "2026-03-01T00:00:00"),  # no offset
        _cdc(qbo, "Bill", now - timedelta(days=31)),  # past the 30-day look-back
    ]
    assert [r.status_code for r in cases] == [400] * 6
    assert [fault_code(r) for r in cases] == ["2020", "2020", "2010", "2010", "2010", "2010"]
    assert "30 days" in cases[-1].json()["Fault"]["Error"][0]["Detail"]
    assert _reads(sb, qbo) == 0


def test_cdc_answers_at_most_1000_objects_oldest_first(sb: Sandbox, qbo: QBO) -> None:
    since = sb.clock.now()
    realm = sb.qbo.realm(qbo.realm_id)
    vendor = qbo.one("Vendor", "DisplayName = 'Great Lakes Fasteners'")
    for n in range(1005):
        sb.clock.advance(seconds=1)
        realm.insert("Vendor", {**vendor, "DisplayName": f"Bulk {n}"}, sb.clock.now())

    rows = _blocks(_cdc(qbo, "Vendor,Bill", since))["Vendor"]["Vendor"]

    assert len(rows) == 1000
    assert rows[0]["DisplayName"] == "Bulk 0" and rows[-1]["DisplayName"] == "Bulk 999"


def test_a_person_pays_part_of_a_bill_then_the_rest(sb: Sandbox, qbo: QBO, client: httpx.Client) -> None:
    bill = _bill(qbo, 100.0, DocNumber="PAY-1")
    url = f"/_sandbox/qbo/{qbo.realm_id}/bill/{bill['Id']}/paid"

    part = client.post(url, json={"amount": "30.00"}).json()
    assert (part["Balance"], part["TotalAmt"]) == (70.0, 100.0)
    assert client.post(url, json={"amount": "70.01"}).status_code == 400  # more than the balance
    assert client.post(url).json()["Balance"] == 0.0
    assert (
        len(
            [
                t
                for t in sb.qbo.objects(qbo.realm_id, "Bill")[-1]["LinkedTxn"]
                if t["TxnType"] == "BillPayment"
            ]
        )
        == 2
    )


def test_a_person_deletes_a_bill_through_the_control_api(sb: Sandbox, qbo: QBO, client: httpx.Client) -> None:
    bill = _bill(qbo, DocNumber="DEL-1")
    paid = _bill(qbo, DocNumber="DEL-2")
    sb.qbo.mark_bill_paid(qbo.realm_id, paid["Id"])

    assert client.delete(f"/_sandbox/qbo/{qbo.realm_id}/bill/{bill['Id']}").json()["status"] == "Deleted"
    refused = client.delete(f"/_sandbox/qbo/{qbo.realm_id}/bill/{paid['Id']}")
    assert refused.status_code == 400 and fault_code(refused) == "6000"
    assert [
        b["DocNumber"] for b in sb.qbo.objects(qbo.realm_id, "Bill") if b["DocNumber"].startswith("DEL")
    ] == ["DEL-2"]


def test_closed_books_refuse_bills_and_purchase_orders_dated_on_or_before_the_close(
    sb: Sandbox, qbo: QBO, client: httpx.Client
) -> None:
    client.post(f"/_sandbox/qbo/{qbo.realm_id}/preferences", json={"BookCloseDate": "2026-01-31"})
    assert (
        qbo.get("preferences").json()["Preferences"]["AccountingInfoPrefs"]["BookCloseDate"] == "2026-01-31"
    )
    vendor = qbo.one("Vendor", "DisplayName = 'Great Lakes Fasteners'")
    account = qbo.one("Account", "AcctNum = '6100'")
    body = {"VendorRef": {"value": vendor["Id"]}, "Line": [expense_line(account["Id"], 10.0)]}
    writes = {
        "bill on the close": qbo.post("bill", {**body, "TxnDate": "2026-01-31"}),
        "bill before": qbo.post("bill", {**body, "TxnDate": "2025-12-15"}),
        "po on the close": qbo.post("purchaseorder", {**body, "TxnDate": "2026-01-31"}),
    }
    assert {k: (r.status_code, fault_code(r)) for k, r in writes.items()} == dict.fromkeys(
        writes, (400, "6200")
    )
    opened = qbo.ok("bill", {**body, "TxnDate": "2026-02-01"})["Bill"]
    # Moving an open bill into the closed period is refused too.
    moved = qbo.post(
        "bill",
        {"Id": opened["Id"], "SyncToken": opened["SyncToken"], "sparse": True, "TxnDate": "2026-01-15"},
    )
    assert (moved.status_code, fault_code(moved)) == (400, "6200")
    assert (
        qbo.ok("purchaseorder", {**body, "TxnDate": "2026-02-01"})["PurchaseOrder"]["TxnDate"] == "2026-02-01"
    )
