"""Seed entry point and the bill builder shared by the seeds and the change API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .procurify_data import BILL_STATUS, CENT, Site
from .qbo_store import Realm

QBO_CLIENT_ID = "sandbox-qbo-client"
QBO_CLIENT_SECRET = "sandbox-qbo-secret"


@dataclass
class Tenant:
    site: Site
    realm: Realm


@dataclass
class SeedResult:
    tenants: list[Tenant] = field(default_factory=list)


def build(seed: str | None, now: datetime, tenants: int = 1, **options: Any) -> SeedResult:
    """options: n_bills, n_vendors, n_pos for "large"; qbo_multicurrency for "distributor"."""
    from . import seed_canada, seed_distributor, seed_large

    result = SeedResult()
    if seed is None:
        return result
    for index in range(tenants):
        if seed == "distributor":
            result.tenants.append(seed_distributor.build(index, now, **options))
        elif seed == "canada":
            result.tenants.append(seed_canada.build(index, now, **options))
        elif seed == "empty":
            result.tenants.append(seed_large.build_empty(index, now))
        elif seed == "large":
            result.tenants.append(seed_large.build(index, now, **options))
        else:
            raise ValueError(f"unknown seed {seed!r}; use distributor, canada, large, empty or None")
    return result


def domain_name(base: str, index: int) -> str:
    return base if index == 0 else f"{base}{index + 1}"


def realm_id(index: int, offset: int = 0) -> str:
    return str(9130350000000001 + offset + index)


def credentials(domain: str) -> tuple[str, str]:
    return f"{domain}-demo-client", f"{domain}-demo-secret"


# --- bills ----------------------------------------------------------------------------------------


def _status(value: int | str) -> int:
    return value if isinstance(value, int) else BILL_STATUS[value]


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def items_from_lines(site: Site, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Line specs -> stored items. A spec: description, quantity, unit_cost (or amount), account_code,
    department (id or name), optional allocations [{account_code, department, amount}], po_id,
    po_line_id, sku, tax_percentage, tax_name, tax_inclusive (the price includes the tax), shipping_amount
    (item-level shipping), null_total_with_tax (render
    the item's total_cost_with_tax as null, as some Procurify rows do)."""
    default_dept = next(iter(site.departments))
    items = []
    for spec in lines:
        quantity = _dec(spec.get("quantity", 1))
        unit_cost = _dec(spec["unit_cost"]) if "unit_cost" in spec else _dec(spec["amount"]) / quantity
        total = (quantity * unit_cost).quantize(CENT)
        splits = spec.get("allocations") or [{"account_code": spec.get("account_code"), "amount": total}]
        allocs: list[dict[str, Any]] = []
        for split in splits:
            dept = split.get("department", spec.get("department", default_dept))
            allocs.append(
                {
                    "amount": _dec(split["amount"]).quantize(CENT),
                    "code_id": site.code_id(split.get("account_code") or spec.get("account_code") or "6100"),
                    "dept_id": dept if isinstance(dept, int) else _dept_id(site, dept),
                }
            )
        if sum(a["amount"] for a in allocs) != total:
            raise ValueError(f"allocations of {spec.get('description')!r} do not add up to {total}")
        items.append(
            {
                "description": spec.get("description", "Item"),
                "sku": spec.get("sku", ""),
                "unit": spec.get("unit", "ea"),
                "quantity": quantity,
                "unit_cost": unit_cost,
                "tax_percentage": _dec(spec.get("tax_percentage", 0)),
                "tax_name": spec.get("tax_name", ""),
                "tax_inclusive": bool(spec.get("tax_inclusive", False)),
                "po_id": spec.get("po_id"),
                "po_line_id": spec.get("po_line_id"),
                "shipping": _dec(spec.get("shipping_amount", 0)).quantize(CENT),
                "null_total_with_tax": bool(spec.get("null_total_with_tax", False)),
                "allocs": allocs,
            }
        )
    return items


def _dept_id(site: Site, name: str) -> int:
    return next(d["id"] for d in site.departments.values() if d["name"] == name)


def bill_record(
    site: Site,
    now: datetime,
    *,
    vendor_id: int | None = None,
    vendor: str | None = None,
    lines: list[dict[str, Any]] | None = None,
    status: int | str = "approved",
    currency: str | None = None,
    invoice_number: str | None = None,
    invoice_date: date | str | None = None,
    due_date: date | str | None = None,
    note: str = "",
    payment_terms: str = "Net 30",
    modified: datetime | None = None,
    active: bool = True,
    shipping: Any = 0,
    costs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """shipping: bill-level shipping; costs: extra bill-level costs [{name, amount}]."""
    if vendor_id is None:
        matches = [v["id"] for v in site.vendors.values() if v["name"] == vendor]
        if not matches:
            raise ValueError(f"unknown vendor {vendor!r}")
        vendor_id = matches[0]
    vendor_row = site.vendors[vendor_id]
    currency_id = site.currency_id(currency) if currency else vendor_row["currency"]
    lines = lines or [{"description": "Miscellaneous", "amount": "100.00", "account_code": "6100"}]
    items = items_from_lines(site, lines)
    inv_date = _as_date(invoice_date) or (now - timedelta(days=2)).date()
    state = _status(status)
    modified = modified or now
    return {
        "version": 1,
        "status": state,
        "type": 0 if any(i["po_id"] for i in items) else 1,
        "active": active,
        "invoice_number": invoice_number or f"INV-{site.rng.randint(10000, 99999)}",
        "invoice_date": inv_date,
        "due_date": _as_date(due_date) or inv_date + timedelta(days=30),
        "submitted": modified - timedelta(hours=6) if state else None,
        "last_modified": modified,
        "payment_terms": payment_terms,
        "note": note,
        "vendor_id": vendor_id,
        "currency_id": currency_id,
        "items": items,
        "paid_on": inv_date + timedelta(days=20) if state == BILL_STATUS["paid"] else None,
        "user": 1,
        "shipping": _dec(shipping).quantize(CENT),
        "costs": [{"name": c["name"], "amount": _dec(c["amount"]).quantize(CENT)} for c in costs or []],
    }


def apply_bill_changes(site: Site, record: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key == "status":
            record["status"] = _status(value)
            if record["status"] == BILL_STATUS["paid"] and not record.get("paid_on"):
                record["paid_on"] = record["invoice_date"]
        elif key in ("invoice_date", "due_date", "paid_on"):
            record[key] = _as_date(value)
        elif key in ("invoice_number", "note", "payment_terms", "active"):
            record[key] = value
        elif key == "vendor_id":
            record["vendor_id"] = int(value)
        elif key == "currency":
            record["currency_id"] = site.currency_id(value)
            record["rate"] = site.currencies[record["currency_id"]]["rate"]
        elif key == "lines":
            record["items"] = items_from_lines(site, value)
            for item in record["items"]:
                item["id"] = site.new_id("bill_item", 9000)
                for alloc in item["allocs"]:
                    alloc["id"] = site.new_id("allocation")
        else:
            raise ValueError(f"cannot change bill field {key!r}")
