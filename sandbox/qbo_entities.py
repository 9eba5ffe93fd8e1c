"""What QBO enforces on every write (reference §3-§5), and the fields it derives itself."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from . import qbo_errors as err
from . import qbo_tax
from .qbo_store import PEOPLE, Realm

WRITABLE = ("Vendor", "Account", "Term", "Bill", "PurchaseOrder", "BillPayment", "VendorCredit")
TRANSACTIONS = ("Bill", "PurchaseOrder", "BillPayment", "VendorCredit")
EXPENSE_TYPES = ("Expense", "Other Expense", "Cost of Goods Sold")
CLASSIFICATION = {
    "Bank": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Receivable": "Asset",
    "Equity": "Equity",
    "Expense": "Expense",
    "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Long Term Liability": "Liability",
    "Other Current Liability": "Liability",
    "Income": "Revenue",
    "Other Income": "Revenue",
}
SUBTYPE_TO_TYPE = {"SuppliesMaterials": "Expense", "OfficeGeneralAdministrativeExpenses": "Expense"}
READ_ONLY = {"Id", "SyncToken", "MetaData", "domain", "sparse", "status"}
DERIVED = {
    "Vendor": {"Balance"},
    "Account": {"Classification", "FullyQualifiedName", "CurrentBalance", "CurrentBalanceWithSubAccounts"},
    "Term": {"Type"},
    "Bill": {"TotalAmt", "Balance", "HomeBalance", "LinkedTxn"},
    "PurchaseOrder": {"TotalAmt", "LinkedTxn"},
    "BillPayment": set(),  # TotalAmt is sent and checked against the lines (qbo_bill_payment.py)
    "VendorCredit": {"TotalAmt", "Balance", "LinkedTxn"},
}
NAME_FIELDS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
CENT = Decimal("0.01")


@dataclass
class Ctx:
    realm: Realm
    today: date
    old: dict[str, Any] | None = None
    allow_duplicate_doc: bool = False
    hidden: frozenset[str] = frozenset()  # created earlier in the same batch: not visible yet (§7)

    @property
    def self_id(self) -> str | None:
        return self.old["Id"] if self.old else None


def merge(entity: str, old: dict[str, Any], body: dict[str, Any], sparse: bool) -> dict[str, Any]:
    """Sparse overlays the body on the stored object; a full update keeps only what the body sends
    (plus read-only and derived fields), so omitted writable fields are cleared (§3)."""
    keep = READ_ONLY | DERIVED.get(entity, set())
    incoming = {k: copy.deepcopy(v) for k, v in body.items() if k not in keep}
    base = copy.deepcopy(old) if sparse else {k: copy.deepcopy(v) for k, v in old.items() if k in keep}
    base.update(incoming)
    return base


def prepare(entity: str, obj: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Validate a create or the merged result of an update; fill in what QBO computes."""
    if entity == "BillPayment":
        from .qbo_bill_payment import prepare as bill_payment  # it builds on the helpers below

        return bill_payment(obj, ctx)
    return _PREPARE[entity](obj, ctx)


def check_closed_period(ctx: Ctx, txn_date: str | None) -> None:
    close = ctx.realm.book_close_date
    if close and txn_date and _date(txn_date, "TxnDate") <= close:
        raise err.period_closed()


# --- name lists ---------------------------------------------------------------------------------


def _vendor(obj: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    for name in (*NAME_FIELDS, "DisplayName", "PrintOnCheckName", "CompanyName"):
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise err.invalid_value(name, f"{name} must be a string")
        if value and any(c in value for c in ":\t\n"):
            raise err.invalid_string(name, f"{name} cannot contain a colon (:), tab or new line")
    display = " ".join((obj.get("DisplayName") or "").split())
    if not display:
        display = " ".join(p.strip() for p in (obj.get(n) for n in NAME_FIELDS) if p and p.strip())
    if not display:
        raise err.missing_name()
    obj["DisplayName"] = display
    for name, maximum in (
        ("DisplayName", 500),
        ("CompanyName", 100),
        ("PrintOnCheckName", 110),
        ("AcctNum", 100),
    ):
        _length(obj, name, maximum)
    _unique_person(ctx, display)
    if obj.get("TermRef"):
        obj["TermRef"] = _ref(ctx, "Term", obj["TermRef"], "TermRef")
    obj["CurrencyRef"] = _fixed_currency(obj, ctx, "vendor")
    obj.setdefault("Active", True)
    obj.setdefault("Balance", 0)
    obj.setdefault("PrintOnCheckName", display)
    return obj


def _unique_person(ctx: Ctx, display: str) -> None:
    # Inactive records still hold their name (the " (deleted)" rename is unverified, §3).
    wanted = display.casefold()
    for entity in PEOPLE:
        for other in ctx.realm.objects[entity].values():
            if (
                other["Id"] != ctx.self_id
                and " ".join(other.get("DisplayName", "").split()).casefold() == wanted
            ):
                raise err.duplicate_name(other["Id"])


def _account(obj: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    name = obj.get("Name")
    if not name:
        raise err.required("Name")
    if ":" in name:
        raise err.invalid_string("Name", "Name cannot contain a colon (:)")
    _length(obj, "Name", 100)
    _length(obj, "Description", 100)
    _length(obj, "AcctNum", 20)
    for other in ctx.realm.objects["Account"].values():
        if other["Id"] == ctx.self_id:
            continue
        if other.get("Name", "").casefold() == name.casefold():
            raise err.duplicate_name(other["Id"])
        if obj.get("AcctNum") and other.get("AcctNum") == obj["AcctNum"]:
            raise err.business("Another account is already using this number.", "AcctNum")
    kind = obj.get("AccountType") or SUBTYPE_TO_TYPE.get(obj.get("AccountSubType") or "")
    if not kind:
        raise err.required("AccountType")
    if kind not in CLASSIFICATION:
        raise err.invalid_value("AccountType", f"Invalid Enumeration : {kind}")
    obj["AccountType"] = kind
    obj["Classification"] = CLASSIFICATION[kind]
    obj["FullyQualifiedName"] = name
    obj["CurrencyRef"] = _fixed_currency(obj, ctx, "account")
    obj.setdefault("Active", True)
    obj.setdefault("SubAccount", False)
    obj.setdefault("CurrentBalance", 0)
    return obj


def _fixed_currency(obj: dict[str, Any], ctx: Ctx, kind: str) -> dict[str, str]:
    """A vendor's or account's currency is chosen once, at creation (§10); an update may repeat it
    or leave it out, never change it."""
    old = _currency_code((ctx.old or {}).get("CurrencyRef"), "CurrencyRef")
    currency = _currency_code(obj.get("CurrencyRef"), "CurrencyRef") or old or ctx.realm.home_currency
    if old and currency != old:
        raise err.business(f"You can't change the currency of this {kind}: it is {old}.", "CurrencyRef")
    _home_only(ctx, currency, "CurrencyRef")
    return {"value": currency}


def _term(obj: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    name = obj.get("Name")
    if not name:
        raise err.required("Name")
    _length(obj, "Name", 31)
    for other in ctx.realm.objects["Term"].values():
        if other["Id"] != ctx.self_id and other.get("Name", "").casefold() == name.casefold():
            raise err.duplicate_name(other["Id"])
    obj["Type"] = "DATE_DRIVEN" if obj.get("DayOfMonthDue") is not None else "STANDARD"
    obj.setdefault("Active", True)
    return obj


# --- transactions -------------------------------------------------------------------------------


def _bill(obj: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    _transaction_header(obj, ctx, "Bill")
    if ctx.old:
        check_closed_period(ctx, ctx.old.get("TxnDate"))
    check_closed_period(ctx, obj["TxnDate"])
    if obj.get("SalesTermRef"):
        obj["SalesTermRef"] = _ref(ctx, "Term", obj["SalesTermRef"], "SalesTermRef")
    obj["DueDate"] = _date(obj["DueDate"], "DueDate").isoformat() if obj.get("DueDate") else obj["TxnDate"]
    obj["APAccountRef"] = _ap_account(ctx, obj)
    total = qbo_tax.bill_total(obj, ctx, _lines(obj, ctx, expense_only=True), _ref)
    if total < 0:
        # Negative lines are accepted while the whole stays at or above zero (docs/qbo-facts.md, "Credits").
        raise err.negative_total("Bill")
    paid = _paid(ctx)
    rate = Decimal(str(obj.get("ExchangeRate", 1)))
    balance = max(total - paid, Decimal(0))
    obj["TotalAmt"] = float(total)
    obj["Balance"] = float(balance)
    obj["HomeBalance"] = float((balance * rate).quantize(CENT))
    obj["LinkedTxn"] = ctx.old.get("LinkedTxn", []) if ctx.old else []
    if not obj["LinkedTxn"]:
        obj.pop("LinkedTxn")
    return obj


def _vendor_credit(obj: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """A credit from a vendor: a Bill's header and lines (no due date, no terms), a positive total,
    and a Balance that applying it to bills (a BillPayment) lowers (docs/qbo-facts.md, "Credits")."""
    _transaction_header(obj, ctx, "VendorCredit")
    if ctx.old:
        check_closed_period(ctx, ctx.old.get("TxnDate"))
    check_closed_period(ctx, obj["TxnDate"])
    for name in ("DueDate", "SalesTermRef"):
        if name in obj:
            raise err.invalid_value(name, f"Property {name} is not valid for VendorCredit")
    obj["APAccountRef"] = _ap_account(ctx, obj)
    # Same tax codes, classes and location rules as a Bill (a non-US credit's lines carry tax codes too).
    total = qbo_tax.bill_total(obj, ctx, _lines(obj, ctx, expense_only=True), _ref)
    if total < 0:
        raise err.negative_total("VendorCredit")
    applied = _paid(ctx)  # BillPayment lines that took from this credit
    obj["TotalAmt"] = float(total)
    obj["Balance"] = float(max(total - applied, Decimal(0)))
    obj["LinkedTxn"] = ctx.old.get("LinkedTxn", []) if ctx.old else []
    if not obj["LinkedTxn"]:
        obj.pop("LinkedTxn")
    return obj


def _purchase_order(obj: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    _transaction_header(obj, ctx, "PurchaseOrder")
    # Strict reading of §14 "Closed books": a PO dated in closed books is refused like a bill.
    if ctx.old:
        check_closed_period(ctx, ctx.old.get("TxnDate"))
    check_closed_period(ctx, obj["TxnDate"])
    status = obj.setdefault("POStatus", "Open")
    if status not in ("Open", "Closed"):
        raise err.invalid_value("POStatus", f"Invalid Enumeration : {status}")
    if obj.get("APAccountRef"):
        obj["APAccountRef"] = _ap_account(ctx, obj)
    obj["TotalAmt"] = float(_lines(obj, ctx, expense_only=False))
    if ctx.old and ctx.old.get("LinkedTxn"):
        obj["LinkedTxn"] = ctx.old["LinkedTxn"]
    return obj


def _transaction_header(obj: dict[str, Any], ctx: Ctx, entity: str) -> dict[str, Any]:
    if not obj.get("VendorRef"):
        raise err.required("VendorRef")
    vendor = ctx.realm.get("Vendor", obj["VendorRef"].get("value"))
    obj["VendorRef"] = _ref(ctx, "Vendor", obj["VendorRef"], "VendorRef")
    if not obj.get("Line"):
        raise err.required("Line")
    _length(obj, "DocNumber", 21)
    _length(obj, "PrivateNote", 4000)
    obj["TxnDate"] = (
        _date(obj["TxnDate"], "TxnDate").isoformat() if obj.get("TxnDate") else ctx.today.isoformat()
    )
    assert vendor is not None  # _ref raised otherwise
    _currency(obj, ctx, vendor)
    # The check follows the company's "Warn if duplicate bill number is used" preference (§14).
    warn = ctx.realm.warn_duplicate_bill_number and not ctx.allow_duplicate_doc
    if entity == "Bill" and obj.get("DocNumber") and warn:
        for other in ctx.realm.objects["Bill"].values():
            same_vendor = other["VendorRef"]["value"] == obj["VendorRef"]["value"]
            if other["Id"] != ctx.self_id and same_vendor and other.get("DocNumber") == obj["DocNumber"]:
                raise err.duplicate_doc_number(obj["DocNumber"], "Bill", other["Id"])
    return vendor


def _currency(obj: dict[str, Any], ctx: Ctx, vendor: dict[str, Any]) -> None:
    vendor_currency = _currency_code(vendor.get("CurrencyRef"), "VendorRef") or ctx.realm.home_currency
    currency = _currency_code(obj.get("CurrencyRef"), "CurrencyRef") or vendor_currency
    _home_only(ctx, currency, "CurrencyRef")
    if currency != vendor_currency:
        raise err.business(
            f"The transaction currency {currency} does not match the vendor currency {vendor_currency}.",
            "CurrencyRef",
        )
    obj["CurrencyRef"] = {"value": currency}
    obj["ExchangeRate"] = _exchange_rate(obj.get("ExchangeRate"), currency, ctx)


def _exchange_rate(value: Any, currency: str, ctx: Ctx) -> float | int:
    if value is None:
        # QBO falls back to its own rate for the date when none is sent (§10, unverified).
        return 1 if currency == ctx.realm.home_currency else float(ctx.realm.rate(currency))
    rate = _positive(value, "ExchangeRate")
    if not ctx.realm.multicurrency_enabled and rate != 1:
        raise err.business(
            "An exchange rate needs multicurrency, which this company has not enabled.", "ExchangeRate"
        )
    return 1 if currency == ctx.realm.home_currency else float(rate)


def _home_only(ctx: Ctx, currency: str, element: str) -> None:
    if not ctx.realm.multicurrency_enabled and currency != ctx.realm.home_currency:
        raise err.multicurrency_off(currency, element)


def _ap_account(ctx: Ctx, obj: dict[str, Any]) -> dict[str, Any]:
    """Per-currency A/P (§3 Bill, §10): an explicit APAccountRef must be A/P in the transaction's
    currency; without one QBO can only default to an A/P account in that currency."""
    currency = obj["CurrencyRef"]["value"]
    if obj.get("APAccountRef"):
        ref = _ref(ctx, "Account", obj["APAccountRef"], "APAccountRef")
        account = ctx.realm.objects["Account"][ref["value"]]
        if account["AccountType"] != "Accounts Payable":
            raise err.wrong_account_type("APAccountRef")
        if _account_currency(ctx, account) != currency:
            raise err.business(
                f"The A/P account {account['Name']} is in {_account_currency(ctx, account)}; "
                f"a {currency} transaction needs an Accounts Payable account in {currency}.",
                "APAccountRef",
            )
        return ref
    matching = [
        a
        for a in ctx.realm.objects["Account"].values()
        if a["AccountType"] == "Accounts Payable"
        and a.get("Active", True)
        and _account_currency(ctx, a) == currency
    ]
    if not matching:  # never another currency's A/P
        raise err.required("APAccountRef")
    return {"value": matching[0]["Id"], "name": matching[0]["Name"]}


def _account_currency(ctx: Ctx, account: dict[str, Any]) -> str:
    return (account.get("CurrencyRef") or {}).get("value") or ctx.realm.home_currency


def _lines(obj: dict[str, Any], ctx: Ctx, expense_only: bool) -> Decimal:
    lines = obj["Line"]
    if not isinstance(lines, list):
        raise err.invalid_value("Line", "Line must be a list")
    old_ids = {str(line.get("Id")) for line in (ctx.old or {}).get("Line", [])}
    numeric = [int(i) for i in old_ids if i.isdigit()]
    next_id = max(numeric, default=0) + 1
    used: set[str] = set()
    total = Decimal(0)
    for index, line in enumerate(lines):
        amount = _amount(line.get("Amount"), "Line.Amount")
        line["Amount"] = float(amount)
        total += amount
        _line_detail(line, ctx, expense_only)
        line_id = str(line.get("Id")) if line.get("Id") is not None else ""
        if line_id not in old_ids or line_id in used:
            line_id, next_id = str(next_id), next_id + 1
        used.add(line_id)
        line["Id"], line["LineNum"] = line_id, index + 1
        _keep_valid_links(line, obj, ctx)
    return total.quantize(CENT)


def _line_detail(line: dict[str, Any], ctx: Ctx, expense_only: bool) -> None:
    kind = line.get("DetailType")
    if not kind:
        raise err.required("Line.DetailType")
    detail = line.get(kind)
    if kind == "AccountBasedExpenseLineDetail":
        element = "Line.AccountBasedExpenseLineDetail.AccountRef"
        if not isinstance(detail, dict) or not detail.get("AccountRef"):
            raise err.required(element)
        detail["AccountRef"] = _ref(ctx, "Account", detail["AccountRef"], element)
        account = ctx.realm.objects["Account"][detail["AccountRef"]["value"]]
        if expense_only and account["AccountType"] not in EXPENSE_TYPES:
            raise err.wrong_account_type(element)
    elif kind == "ItemBasedExpenseLineDetail":
        # The fake holds no Items, so any ItemRef is a reference to nothing.
        element = "Line.ItemBasedExpenseLineDetail.ItemRef"
        if not isinstance(detail, dict) or not detail.get("ItemRef"):
            raise err.required(element)
        raise err.invalid_reference(element)
    else:
        raise err.invalid_value("Line.DetailType", f"Invalid Enumeration : {kind}")


def _keep_valid_links(line: dict[str, Any], obj: dict[str, Any], ctx: Ctx) -> None:
    """QBO silently drops a PO link it cannot resolve (§3 Bill, §12.11)."""
    links = line.get("LinkedTxn")
    if not links:
        line.pop("LinkedTxn", None)
        return
    kept = []
    for link in links if isinstance(links, list) else []:
        po = ctx.realm.get("PurchaseOrder", link.get("TxnId"))
        ok = (
            link.get("TxnType") == "PurchaseOrder"
            and po is not None
            and po["VendorRef"]["value"] == obj["VendorRef"]["value"]
            and any(str(pl.get("Id")) == str(link.get("TxnLineId")) for pl in po.get("Line", []))
        )
        if ok:
            kept.append(
                {"TxnId": str(link["TxnId"]), "TxnType": "PurchaseOrder", "TxnLineId": str(link["TxnLineId"])}
            )
    if kept:
        line["LinkedTxn"] = kept
    else:
        line.pop("LinkedTxn", None)


def _paid(ctx: Ctx) -> Decimal:
    if not ctx.old:
        return Decimal(0)
    paid = Decimal(0)
    for link in ctx.old.get("LinkedTxn", []):
        payment = (
            ctx.realm.get("BillPayment", link["TxnId"]) if link.get("TxnType") == "BillPayment" else None
        )
        for line in (payment or {}).get("Line", []):
            if any(t.get("TxnId") == ctx.old["Id"] for t in line.get("LinkedTxn", [])):
                paid += Decimal(str(line["Amount"]))
    return paid


# --- small checks -------------------------------------------------------------------------------


def _ref(ctx: Ctx, entity: str, ref: Any, element: str) -> dict[str, Any]:
    if not isinstance(ref, dict) or not ref.get("value"):
        raise err.required(element)
    target = ctx.realm.get(entity, ref["value"])
    if target is None or target["Id"] in ctx.hidden:
        raise err.invalid_reference(element)
    if target.get("Active") is False:
        raise err.not_found(element)  # "made inactive" (§12.10)
    name = target.get("DisplayName") or target.get("FullyQualifiedName") or target.get("Name")
    return {"value": target["Id"], "name": name}


def _length(obj: dict[str, Any], name: str, maximum: int) -> None:
    value = obj.get(name)
    if isinstance(value, str) and len(value) > maximum:
        raise err.bad_length(name, maximum, len(value))


def _date(value: Any, element: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise err.invalid_value(element, f"Invalid date : {value}") from None


def _currency_code(ref: Any, element: str) -> str | None:
    if ref is None:
        return None
    if not isinstance(ref, dict):
        raise err.invalid_value(element, f"{element} must be an object with a value")
    return ref.get("value") or None


def _positive(value: Any, element: str) -> Decimal:
    try:
        number = None if isinstance(value, bool) else Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number <= 0:
        raise err.invalid_value(element, f"{element} must be a positive number: {value}")
    return number


def _amount(value: Any, element: str) -> Decimal:
    if value is None:
        raise err.required(element)
    if isinstance(value, bool):
        raise err.invalid_value(element, "Amount must be a number")
    try:
        return Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        raise err.invalid_value(element, f"Invalid number : {value}") from None


_PREPARE = {
    "Vendor": _vendor,
    "Account": _account,
    "Term": _term,
    "Bill": _bill,
    "PurchaseOrder": _purchase_order,
    "VendorCredit": _vendor_credit,
}
