"""BillPayment as QBO enforces it (reference §14 "Payments"; python-quickbooks' BillPayment object).

A payment names its vendor, how it was paid (`PayType` Check with `CheckPayment.BankAccountRef` to a
Bank account, or CreditCard with `CreditCardPayment.CCAccountRef` to a Credit Card account), and one
`Line` per bill with the `Amount` applied and `LinkedTxn` [{TxnId, TxnType: "Bill"}]. `TotalAmt` is the
sum of the lines. Each bill is the payment's vendor's, in the payment's currency, and is never paid
beyond its open balance. The bills' `Balance` follows (`refresh_bills`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import qbo_entities as e
from . import qbo_errors as err
from .qbo_store import Realm

PAY_TYPES = {
    "Check": ("CheckPayment", "BankAccountRef", "Bank"),
    "CreditCard": ("CreditCardPayment", "CCAccountRef", "Credit Card"),
}


def prepare(obj: dict[str, Any], ctx: e.Ctx) -> dict[str, Any]:
    if not obj.get("VendorRef"):
        raise err.required("VendorRef")
    vendor = ctx.realm.get("Vendor", obj["VendorRef"].get("value"))
    obj["VendorRef"] = e._ref(ctx, "Vendor", obj["VendorRef"], "VendorRef")
    assert vendor is not None  # _ref raised otherwise
    e._length(obj, "DocNumber", 21)
    e._length(obj, "PrivateNote", 4000)
    obj["TxnDate"] = (
        e._date(obj["TxnDate"], "TxnDate").isoformat() if obj.get("TxnDate") else ctx.today.isoformat()
    )
    if ctx.old:
        e.check_closed_period(ctx, ctx.old.get("TxnDate"))
    e.check_closed_period(ctx, obj["TxnDate"])
    e._currency(obj, ctx, vendor)  # the vendor's currency, as on its bills (§10)
    _pay_from(obj, ctx)
    total = _lines(obj, ctx)
    if obj.get("TotalAmt") is None:
        raise err.required("TotalAmt")
    sent = e._amount(obj["TotalAmt"], "TotalAmt")
    if sent != total:
        raise err.business(
            f"The payment total {sent} does not equal the amounts applied to its bills ({total}).", "TotalAmt"
        )
    obj["TotalAmt"] = float(total)
    return obj


def _pay_from(obj: dict[str, Any], ctx: e.Ctx) -> None:
    kind = obj.get("PayType")
    if not kind:
        raise err.required("PayType")
    if kind not in PAY_TYPES:
        raise err.invalid_value("PayType", f"Invalid Enumeration : {kind}")
    detail_name, ref_name, account_type = PAY_TYPES[kind]
    element = f"{detail_name}.{ref_name}"
    detail = obj.get(detail_name)
    if not isinstance(detail, dict) or not detail.get(ref_name):
        raise err.required(element)
    detail[ref_name] = e._ref(ctx, "Account", detail[ref_name], element)
    account = ctx.realm.objects["Account"][detail[ref_name]["value"]]
    if account["AccountType"] != account_type:
        raise err.wrong_account_type(element)
    currency, own = obj["CurrencyRef"]["value"], e._account_currency(ctx, account)
    if own not in (currency, ctx.realm.home_currency):
        raise err.business(
            f"The account {account['Name']} is in {own}; a {currency} payment is paid from an account in "
            f"{currency} or the home currency.",
            element,
        )
    for other in set(PAY_TYPES.values()) - {PAY_TYPES[kind]}:
        obj.pop(other[0], None)  # the other pay type's detail does not apply


def _lines(obj: dict[str, Any], ctx: e.Ctx) -> Decimal:
    lines = obj.get("Line")
    if not lines:
        raise err.required("Line")
    if not isinstance(lines, list):
        raise err.invalid_value("Line", "Line must be a list")
    applied: dict[str, Decimal] = {}
    total = Decimal(0)
    for line in lines:
        amount = e._amount(line.get("Amount"), "Line.Amount")
        if amount <= 0:
            raise err.invalid_value("Line.Amount", f"Amount must be positive: {amount}")
        links = line.get("LinkedTxn")
        if not isinstance(links, list) or len(links) != 1:
            raise err.required("Line.LinkedTxn")
        link = links[0]
        if link.get("TxnType") != "Bill":
            raise err.invalid_value("Line.LinkedTxn.TxnType", f"Invalid Enumeration : {link.get('TxnType')}")
        bill = ctx.realm.get("Bill", link.get("TxnId"))
        if bill is None or bill["Id"] in ctx.hidden:
            raise err.invalid_reference("Line.LinkedTxn.TxnId")
        if bill["VendorRef"]["value"] != obj["VendorRef"]["value"]:
            raise err.business(f"Bill {bill['Id']} belongs to another vendor than this payment.", "VendorRef")
        if (bill.get("CurrencyRef") or {}).get("value", ctx.realm.home_currency) != obj["CurrencyRef"][
            "value"
        ]:
            raise err.business(f"Bill {bill['Id']} is in another currency than this payment.", "CurrencyRef")
        applied[bill["Id"]] = applied.get(bill["Id"], Decimal(0)) + amount
        line["Amount"] = float(amount)
        line["LinkedTxn"] = [{"TxnId": bill["Id"], "TxnType": "Bill"}]
        total += amount
    for bill_id, amount in applied.items():
        open_balance = _open_balance(ctx.realm, bill_id, ignore=ctx.self_id)
        if amount > open_balance:
            raise err.business(
                f"The payment applies {amount} to bill {bill_id}, more than its open balance {open_balance}.",
                "Line.Amount",
            )
    return total.quantize(e.CENT)


def _open_balance(realm: Realm, bill_id: str, ignore: str | None = None) -> Decimal:
    bill = realm.objects["Bill"][bill_id]
    return Decimal(str(bill["TotalAmt"])) - paid_towards(realm, bill_id, ignore=ignore)


def paid_towards(realm: Realm, bill_id: str, ignore: str | None = None) -> Decimal:
    paid = Decimal(0)
    for payment in realm.objects["BillPayment"].values():
        if payment["Id"] == ignore:
            continue
        for line in payment.get("Line", []):
            if any(
                t.get("TxnId") == bill_id and t.get("TxnType") == "Bill" for t in line.get("LinkedTxn", [])
            ):
                paid += Decimal(str(line["Amount"]))
    return paid


def bill_ids(payment: dict[str, Any] | None) -> set[str]:
    if not payment:
        return set()
    return {
        t["TxnId"]
        for line in payment.get("Line", [])
        for t in line.get("LinkedTxn", [])
        if t.get("TxnType") == "Bill"
    }


def refresh_bills(realm: Realm, ids: set[str], now: Any) -> None:
    """Each bill's Balance and its BillPayment links after a payment was written or deleted."""
    for bill_id in ids:
        bill = realm.get("Bill", bill_id)
        if bill is None:
            continue
        balance = max(_open_balance(realm, bill_id), Decimal(0))
        rate = Decimal(str(bill.get("ExchangeRate", 1)))
        bill["Balance"] = float(balance)
        bill["HomeBalance"] = float((balance * rate).quantize(e.CENT))
        links = [
            {"TxnId": p["Id"], "TxnType": "BillPayment"}
            for p in realm.objects["BillPayment"].values()
            if bill_id in bill_ids(p)
        ]
        if links:
            bill["LinkedTxn"] = links
        else:
            bill.pop("LinkedTxn", None)
        realm.touch(bill, now)
