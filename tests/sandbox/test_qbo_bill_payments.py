"""Procurify's payments list (public/v1) and QBO's BillPayment rules (issue 15)."""

from __future__ import annotations

from typing import Any

from sandbox_support import QBO, Procurify, expense_line, fault_code

from sandbox import Sandbox
from sandbox import seed_payments as stories

PATH = "/api/public/v1/payments/"


def _by_number(procurify: Procurify, number: str) -> dict[str, Any]:
    rows = procurify.get("/api/v3/ap/bills/", page_size=100).json()["data"]
    return next(b for b in rows if b["invoice_number"] == number)


def _for_bill(procurify: Procurify, bill: dict[str, Any]) -> list[dict[str, Any]]:
    return procurify.get(PATH, bill_groups=str(bill["group"])).json()["data"]


# --- Procurify -------------------------------------------------------------------------------------


def test_the_payments_list_has_the_public_shape_and_pagination(procurify: Procurify) -> None:
    body = procurify.get(PATH, page_size=3).json()
    assert body["metadata"]["pagination"]["page_size"] == 3 and body["metadata"]["pagination"]["next"]
    row = body["data"][0]
    for name in ("id", "uuid", "amount", "currency", "status", "created_at", "updated_at", "processing_date",
                 "posted_date", "vendor_name", "gl_code", "payment_source_type", "bill_groups", "creator",
                 "vendor_payment_method_rail", "payment_source_name"):  # fmt: skip
        assert name in row
    assert isinstance(row["amount"], str) and set(row["currency"]) == {"id", "name"}


def test_the_awkward_payments_are_seeded(procurify: Procurify) -> None:
    full = _for_bill(procurify, _by_number(procurify, stories.FULLY_PAID))
    assert [(p["status"], p["vendor_payment_method_rail"]) for p in full] == [("paid", "PAPER_CHECK")]
    part_bill = _by_number(procurify, stories.PARTLY_PAID)
    part = _for_bill(procurify, part_bill)
    assert sorted(p["status"] for p in part) == ["paid", "processing"]
    assert sum(float(p["amount"]) for p in part) == part_bill["total_cost_with_tax"]
    assert [p["status"] for p in _for_bill(procurify, _by_number(procurify, stories.FAILED))] == ["failed"]
    reversed_ = _for_bill(procurify, _by_number(procurify, stories.REVERSED))
    assert reversed_[0]["status"] == "failed" and reversed_[0]["posted_date"]
    a, b = (_by_number(procurify, n) for n in stories.TWO_BILLS)
    assert a["group"] == b["group"]
    (card,) = _for_bill(procurify, a)
    assert card["payment_source_type"] == "external" and card["vendor_payment_method_rail"] is None
    assert float(card["amount"]) == a["total_cost_with_tax"] + b["total_cost_with_tax"]
    (fx,) = _for_bill(procurify, _by_number(procurify, stories.OTHER_CURRENCY))
    assert (
        fx["currency"]["name"] == "USD"
        and _by_number(procurify, stories.OTHER_CURRENCY)["currency"]["name"] == "EUR"
    )


def test_every_bill_paid_in_procurify_has_a_payment(procurify: Procurify) -> None:
    bills = procurify.get("/api/v3/ap/bills/", page_size=100).json()["data"]
    groups = {g for p in procurify.get(PATH, page_size=100).json()["data"] for g in p["bill_groups"]}
    assert all(b["group"] in groups for b in bills if b["status"] == 4)


def test_filters_status_ids_updated_at_and_order(sb: Sandbox, procurify: Procurify) -> None:
    everything = procurify.get(PATH, page_size=100).json()["data"]
    paid = procurify.get(PATH, page_size=100, status="paid,processing").json()["data"]
    assert {p["status"] for p in paid} == {"paid", "processing"}
    assert len(paid) == sum(p["status"] in ("paid", "processing") for p in everything)
    some = procurify.get(PATH, ids=f"{everything[0]['id']},{everything[2]['id']}").json()["data"]
    assert [p["id"] for p in some] == [everything[0]["id"], everything[2]["id"]]
    ordered = procurify.get(PATH, page_size=100, order_by="updated_at").json()["data"]
    assert [p["updated_at"] for p in ordered] == sorted(p["updated_at"] for p in everything)
    newest = ordered[-1]["updated_at"]
    assert [p["updated_at"] for p in procurify.get(PATH, updated_at_after=newest).json()["data"]] == [newest]
    assert len(procurify.get(PATH, page_size=100, updated_at_before=newest).json()["data"]) == len(everything)


def test_bad_filters_are_refused_with_400(procurify: Procurify) -> None:
    assert procurify.get(PATH, status="settled").status_code == 400
    assert procurify.get(PATH, ids="one").status_code == 400
    assert procurify.get(PATH, order_by="amount").status_code == 400
    assert procurify.get(PATH, updated_at_after="yesterday").status_code == 400


def test_a_reversal_moves_the_status_back_and_updated_at_on(sb: Sandbox, procurify: Procurify) -> None:
    (paid,) = _for_bill(procurify, _by_number(procurify, stories.FULLY_PAID))
    reversed_ = sb.procurify.set_payment_status("northwind", paid["uuid"], "failed")
    assert reversed_["status"] == "failed" and reversed_["updated_at"] > paid["updated_at"]
    later = procurify.get(PATH, updated_at_after=paid["updated_at"], status="failed", order_by="updated_at")
    assert later.json()["data"][-1]["uuid"] == paid["uuid"]


# --- QBO BillPayment -------------------------------------------------------------------------------


def _ids(qbo: QBO) -> dict[str, str]:
    def account(name: str) -> str:
        return qbo.one("Account", f"Name = '{name}' AND Active IN (true, false)")["Id"]

    return {
        "vendor": qbo.one("Vendor", "DisplayName = 'Great Lakes Fasteners' AND Active IN (true, false)")[
            "Id"
        ],
        "other_vendor": qbo.one("Vendor", "DisplayName = 'Comcast Business' AND Active IN (true, false)")[
            "Id"
        ],
        "bank": account("Operating Checking"),
        "card": account("Amex Corporate Card"),
        "expense": qbo.one("Account", "AcctNum = '6100' AND Active IN (true, false)")["Id"],
    }


def _new_bill(qbo: QBO, ids: dict[str, str], amount: float = 200.0, vendor: str = "vendor") -> dict[str, Any]:
    body = {
        "VendorRef": {"value": ids[vendor]},
        "Line": [expense_line(ids["expense"], amount)],
        "TxnDate": "2026-11-20",
    }
    return qbo.ok("bill", body)["Bill"]


def _payment(ids: dict[str, str], bills: list[tuple[str, float]], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "VendorRef": {"value": ids["vendor"]},
        "PayType": "Check",
        "CheckPayment": {"BankAccountRef": {"value": ids["bank"]}},
        "TxnDate": "2026-11-25",
        "TotalAmt": sum(amount for _, amount in bills),
        "Line": [
            {"Amount": amount, "LinkedTxn": [{"TxnId": bid, "TxnType": "Bill"}]} for bid, amount in bills
        ],
    }
    body.update(extra)
    return body


def _bill(qbo: QBO, bill_id: str) -> dict[str, Any]:
    return qbo.get(f"bill/{bill_id}").json()["Bill"]


def test_a_payment_lowers_the_balance_and_deleting_it_restores_it(qbo: QBO) -> None:
    ids = _ids(qbo)
    bill = _new_bill(qbo, ids, 200.0)
    payment = qbo.ok("billpayment", _payment(ids, [(bill["Id"], 75.55)]))["BillPayment"]
    after = _bill(qbo, bill["Id"])
    assert after["Balance"] == 124.45 and after["LinkedTxn"] == [
        {"TxnId": payment["Id"], "TxnType": "BillPayment"}
    ]
    rows = qbo.query(f"select * from BillPayment where VendorRef = '{ids['vendor']}'").json()["QueryResponse"]
    assert [p["Id"] for p in rows["BillPayment"]] == [payment["Id"]]
    qbo.ok("billpayment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, operation="delete")
    restored = _bill(qbo, bill["Id"])
    assert restored["Balance"] == 200.0 and "LinkedTxn" not in restored


def test_a_card_payment_needs_a_credit_card_account(qbo: QBO) -> None:
    ids = _ids(qbo)
    bill = _new_bill(qbo, ids)
    card = {"PayType": "CreditCard", "CreditCardPayment": {"CCAccountRef": {"value": ids["card"]}}}
    body = _payment(ids, [(bill["Id"], 200.0)], **card)
    del body["CheckPayment"]
    assert qbo.ok("billpayment", body)["BillPayment"]["PayType"] == "CreditCard"
    assert _bill(qbo, bill["Id"])["Balance"] == 0


def test_billpayment_refusals(qbo: QBO) -> None:
    ids = _ids(qbo)
    bill = _new_bill(qbo, ids, 100.0)
    other = _new_bill(qbo, ids, 50.0, vendor="other_vendor")
    cases = {
        "no vendor": ({"VendorRef": None}, "2020"),
        "check without bank": ({"CheckPayment": {}}, "2020"),
        "check from a card account": ({"CheckPayment": {"BankAccountRef": {"value": ids["card"]}}}, "6430"),
        "card from a bank account": (
            {"PayType": "CreditCard", "CreditCardPayment": {"CCAccountRef": {"value": ids["bank"]}}},
            "6430",
        ),
        "unknown pay type": ({"PayType": "Cash"}, "2010"),
        "total differs": ({"TotalAmt": 99.0}, "6000"),
        "no lines": ({"Line": []}, "2020"),
        "line without link": ({"Line": [{"Amount": 100.0}]}, "2020"),
        "link to nothing": (
            {"Line": [{"Amount": 100.0, "LinkedTxn": [{"TxnId": "99999", "TxnType": "Bill"}]}]},
            "2500",
        ),
    }
    for name, (change, code) in cases.items():
        body = {k: v for k, v in {**_payment(ids, [(bill["Id"], 100.0)]), **change}.items() if v is not None}
        response = qbo.post("billpayment", body)
        assert response.status_code == 400 and fault_code(response) == code, (name, response.text)
    assert (
        fault_code(qbo.post("billpayment", _payment(ids, [(bill["Id"], 100.01)]))) == "6000"
    )  # over balance
    assert (
        fault_code(qbo.post("billpayment", _payment(ids, [(other["Id"], 50.0)]))) == "6000"
    )  # another vendor
    assert (
        _bill(qbo, bill["Id"])["Balance"] == 100.0
        and qbo.query("select * from BillPayment").json()["QueryResponse"] == {}
    )


def test_two_payments_cannot_pay_more_than_the_bill(qbo: QBO) -> None:
    ids = _ids(qbo)
    bill = _new_bill(qbo, ids, 100.0)
    qbo.ok("billpayment", _payment(ids, [(bill["Id"], 60.0)]))
    assert fault_code(qbo.post("billpayment", _payment(ids, [(bill["Id"], 40.01)]))) == "6000"
    qbo.ok("billpayment", _payment(ids, [(bill["Id"], 40.0)]))
    assert _bill(qbo, bill["Id"])["Balance"] == 0


def test_a_foreign_bill_is_paid_in_its_own_currency(qbo: QBO) -> None:
    ids = _ids(qbo)
    eur = qbo.one("Vendor", "DisplayName = 'Helvetia Tools GmbH' AND Active IN (true, false)")["Id"]
    body = {
        "VendorRef": {"value": eur},
        "Line": [expense_line(ids["expense"], 80.0)],
        "TxnDate": "2026-11-20",
        "CurrencyRef": {"value": "EUR"},
        "ExchangeRate": 1.08,
    }
    bill = qbo.ok("bill", body)["Bill"]
    payment = _payment(ids, [(bill["Id"], 80.0)], VendorRef={"value": eur}, CurrencyRef={"value": "USD"})
    assert fault_code(qbo.post("billpayment", payment)) == "6000"
    payment["CurrencyRef"] = {"value": "EUR"}
    assert qbo.ok("billpayment", payment)["BillPayment"]["CurrencyRef"]["value"] == "EUR"


def test_billpayment_goes_through_batch(qbo: QBO) -> None:
    ids = _ids(qbo)
    bill = _new_bill(qbo, ids, 30.0)
    items = [
        {"bId": "1", "operation": "create", "BillPayment": _payment(ids, [(bill["Id"], 30.0)])},
        {"bId": "2", "operation": "create", "BillPayment": _payment(ids, [(bill["Id"], 1.0)])},
    ]
    out = qbo.ok("batch", {"BatchItemRequest": items})["BatchItemResponse"]
    assert "BillPayment" in out[0] and out[1]["Fault"]["Error"][0]["code"] == "6000"
    assert _bill(qbo, bill["Id"])["Balance"] == 0


def test_an_update_is_checked_against_the_balance_without_its_own_old_amount(qbo: QBO) -> None:
    ids = _ids(qbo)
    bill = _new_bill(qbo, ids, 100.0)
    payment = qbo.ok("billpayment", _payment(ids, [(bill["Id"], 50.0)]))["BillPayment"]
    line = [{"Amount": 100.0, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}]
    body = {
        "Id": payment["Id"],
        "SyncToken": payment["SyncToken"],
        "sparse": True,
        "TotalAmt": 100.0,
        "Line": line,
    }
    updated = qbo.ok("billpayment", body)["BillPayment"]
    assert updated["SyncToken"] == "1" and _bill(qbo, bill["Id"])["Balance"] == 0
    line[0]["Amount"] = 100.01
    over = {**body, "SyncToken": updated["SyncToken"], "TotalAmt": 100.01}
    assert fault_code(qbo.post("billpayment", over)) == "6000"
    assert fault_code(qbo.post("billpayment", {**body, "SyncToken": "0"})) == "5010"  # stale
