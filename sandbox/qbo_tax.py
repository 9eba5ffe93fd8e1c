"""Sales tax outside the US, classes and locations on a Bill (reference §3 Bill, §14).

Non-US editions (CA, UK, AU) refuse a bill line without ``TaxCodeRef`` and compute the bill's tax
themselves from each code's purchase rates and ``GlobalTaxCalculation``: TaxExcluded adds the tax to
the lines, TaxInclusive finds it inside them. Tax is worked out per rate on the sum of the lines
carrying it (TaxLineDetail.NetAmountTaxable), then rounded, so it can differ by a cent from tax
rounded line by line. US companies keep the old behaviour: no tax codes on expense lines.

Classes (line ``ClassRef``) and locations (bill ``DepartmentRef``) are refused unless the company
switched them on (``AccountingInfoPrefs``), or when they name an unknown or inactive object.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import qbo_errors as err
from .qbo_store import Realm

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
TAX_MODES = ("TaxExcluded", "TaxInclusive", "NotApplicable")
DETAIL = "AccountBasedExpenseLineDetail"
# What QBO says when a non-US line has no tax code (widely reported wording, CA edition).
NO_TAX_CODE = "Make sure all your transactions have a GST/HST rate before you save."

RefCheck = Callable[[Any, str, Any, str], dict[str, Any]]


def uses_line_tax(realm: Realm) -> bool:
    return realm.country != "US"


def tax_prefs(realm: Realm) -> dict[str, Any]:
    return {"UsingSalesTax": uses_line_tax(realm), "PartnerTaxEnabled": False}


def tracking_prefs(realm: Realm) -> dict[str, Any]:
    return {
        "TrackDepartments": realm.track_departments,
        "DepartmentTerminology": "Location",
        "ClassTrackingPerTxn": realm.class_tracking_per_txn,
        "ClassTrackingPerTxnLine": realm.class_tracking_per_line,
    }


def bill_total(obj: dict[str, Any], ctx: Any, lines_total: Decimal, ref: RefCheck) -> Decimal:
    """Check classes, the location and tax codes; set TxnTaxDetail; return the bill's TotalAmt."""
    realm: Realm = ctx.realm
    _location(obj, ctx, ref)
    _classes(obj, ctx, ref)
    if not uses_line_tax(realm):
        return lines_total
    mode = obj.setdefault("GlobalTaxCalculation", "TaxExcluded")
    if mode not in TAX_MODES:
        raise err.invalid_value("GlobalTaxCalculation", f"Invalid Enumeration : {mode}")
    taxes: dict[str, list[Decimal]] = {}  # TaxRate Id -> [taxable base, percent]
    for line in obj["Line"]:
        detail = line.get(DETAIL) or {}
        code_ref = detail.get("TaxCodeRef")
        if not code_ref:
            raise err.business(NO_TAX_CODE, "Line.AccountBasedExpenseLineDetail.TaxCodeRef")
        detail["TaxCodeRef"] = ref(ctx, "TaxCode", code_ref, "Line.AccountBasedExpenseLineDetail.TaxCodeRef")
        rates = purchase_rates(realm, detail["TaxCodeRef"]["value"])
        if mode == "NotApplicable":
            continue
        amount = Decimal(str(line["Amount"]))
        combined = sum((pct for _rid, pct in rates), Decimal(0))
        for rate_id, pct in rates:
            # Inclusive: the line holds net + every rate of its code; this rate's base is the net part.
            base = amount if mode == "TaxExcluded" else amount * HUNDRED / (HUNDRED + combined)
            entry = taxes.setdefault(rate_id, [Decimal(0), pct])
            entry[0] += base
    tax_lines, total_tax = [], Decimal(0)
    for rate_id, (base, pct) in sorted(taxes.items(), key=lambda kv: int(kv[0])):
        amount = (base * pct / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
        total_tax += amount
        tax_lines.append(
            {
                "Amount": float(amount),
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate_id},
                    "PercentBased": True,
                    "TaxPercent": float(pct),
                    "NetAmountTaxable": float(base.quantize(CENT, rounding=ROUND_HALF_UP)),
                },
            }
        )
    obj["TxnTaxDetail"] = {"TotalTax": float(total_tax), "TaxLine": tax_lines}
    return lines_total + total_tax if mode == "TaxExcluded" else lines_total


def purchase_rates(realm: Realm, code_id: str) -> list[tuple[str, Decimal]]:
    """The (TaxRate Id, percent) pairs a code applies to purchases; a sales-only code cannot be used."""
    code = realm.get("TaxCode", code_id) or {}
    details = ((code.get("PurchaseTaxRateList") or {}).get("TaxRateDetail")) or []
    if not details:
        raise err.business(
            f"Tax code {code.get('Name', code_id)} has no purchase tax rate; choose a purchase tax code.",
            "Line.AccountBasedExpenseLineDetail.TaxCodeRef",
        )
    out = []
    for detail in details:
        rate = realm.get("TaxRate", detail["TaxRateRef"]["value"]) or {}
        out.append((rate.get("Id", detail["TaxRateRef"]["value"]), Decimal(str(rate.get("RateValue", 0)))))
    return out


def _location(obj: dict[str, Any], ctx: Any, ref: RefCheck) -> None:
    if not obj.get("DepartmentRef"):
        return
    if not ctx.realm.track_departments:
        raise err.business("Location tracking is turned off for this company.", "DepartmentRef")
    obj["DepartmentRef"] = ref(ctx, "Department", obj["DepartmentRef"], "DepartmentRef")


def _classes(obj: dict[str, Any], ctx: Any, ref: RefCheck) -> None:
    realm: Realm = ctx.realm
    element = "Line.AccountBasedExpenseLineDetail.ClassRef"
    seen: set[str] = set()
    for line in obj["Line"]:
        detail = line.get(DETAIL) or {}
        if not detail.get("ClassRef"):
            continue
        if not (realm.class_tracking_per_txn or realm.class_tracking_per_line):
            raise err.business("Class tracking is turned off for this company.", element)
        detail["ClassRef"] = ref(ctx, "Class", detail["ClassRef"], element)
        seen.add(detail["ClassRef"]["value"])
    if len(seen) > 1 and not realm.class_tracking_per_line:
        # "One to each transaction": every line of a bill carries the same class.
        raise err.business("This company assigns one class to each transaction, not to each line.", element)


# --- seeding ---------------------------------------------------------------------------------------


def add_tax_rate(realm: Realm, now: Any, name: str, percent: str) -> dict[str, Any]:
    return realm.insert(
        "TaxRate",
        {"Name": name, "Description": name, "Active": True, "RateValue": float(Decimal(percent))},
        now,
    )


def add_tax_code(
    realm: Realm, now: Any, name: str, rates: list[dict[str, Any]], *, sales_only: bool = False
) -> dict[str, Any]:
    details = [
        {
            "TaxRateRef": {"value": r["Id"], "name": r["Name"]},
            "TaxTypeApplicable": "TaxOnAmount",
            "TaxOrder": 0,
        }
        for r in rates
    ]
    code: dict[str, Any] = {
        "Name": name,
        "Description": name,
        "Active": True,
        "Taxable": bool(rates),
        "TaxGroup": len(rates) > 1,
        "SalesTaxRateList": {"TaxRateDetail": details},
    }
    if not sales_only:
        code["PurchaseTaxRateList"] = {"TaxRateDetail": details}
    return realm.insert("TaxCode", code, now)


def add_name(realm: Realm, now: Any, entity: str, name: str, active: bool = True) -> dict[str, Any]:
    """A Class or a Department (location)."""
    return realm.insert(
        entity, {"Name": name, "FullyQualifiedName": name, "Active": active, "SubClass": False}, now
    )
