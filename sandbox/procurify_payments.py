"""Procurify payments: `GET /api/public/v1/payments/` (procurify.md §2, §3 "Payment (public/v1)", §7).

A payment pays one or more bill groups (`bill_groups`); a bill belongs to one group (`bill.group`).
Field names of the payment method come from Procurify's public OpenAPI (PaymentResponse):
`payment_source_type` (direct_debit | financial_account | external), `payment_source_name`,
`vendor_payment_method_rail` (ACH, FEDWIRE, PAPER_CHECK, LOCAL, …), `direct_debit_bank_account_mask`.
A reversal is modelled as the reference allows: the status moves from `paid` to `failed` or
`denied` and `updated_at` moves on; there is no separate reversal object.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from . import procurify_api as api
from .procurify_data import CENT, Site, day, money, stamp
from .procurify_render import bill_totals, currency

STATUSES = ("draft", "pending_approval", "approved", "denied", "paid", "processing", "failed", "scheduled")
SOURCE_TYPES = ("direct_debit", "financial_account", "external")
ORDER_BY = {"created_at", "-created_at", "updated_at", "-updated_at"}
_NAMESPACE = uuidlib.UUID("6f1c2a40-5c1e-4a55-9b7e-0d5a2f3c9e11")


def add_payment(
    site: Site,
    now: datetime,
    *,
    bill_uuids: list[str],
    amount: Decimal | str | None = None,
    status: str = "paid",
    rail: str | None = "ACH",
    source_type: str = "financial_account",
    source_name: str | None = "Operating account",
    posted: date | None = None,
    processing: date | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """A payment of the given bills (grouped into one bill group when they have none); the amount
    defaults to the bills' total. Ids and uuids come from a counter, not the site's rng, so adding
    payments never changes the other seeded records."""
    if status not in STATUSES or source_type not in SOURCE_TYPES:
        raise ValueError(f"unknown payment status {status!r} or source type {source_type!r}")
    bills = [site.bills[u.replace("-", "")] for u in bill_uuids]
    if not bills or len({b["currency_id"] for b in bills}) != 1:
        raise ValueError("a payment pays at least one bill, all in one currency")
    groups: list[int] = []
    for bill in bills:
        if bill.get("group") is None:
            bill["group"] = groups[0] if groups else site.new_id("bill_group", 300)
        if bill["group"] not in groups:
            groups.append(bill["group"])
    total = sum((bill_totals(b)["total"] for b in bills), Decimal(0))
    pid = site.new_id("payment", 70)
    payment = {
        "id": pid,
        "uuid": uuidlib.uuid5(_NAMESPACE, f"{site.domain}:{pid}").hex,
        "amount": Decimal(str(amount if amount is not None else total)).quantize(CENT),
        # Normally the bills' currency; a payment made in another one (an FX wire) names its own.
        "currency_id": site.currency_id(currency) if currency else bills[0]["currency_id"],
        "status": status,
        "created": now,
        "updated": now,
        "processing_date": processing or (posted if posted else now.date()),
        "posted_date": posted if posted is not None else (now.date() if status == "paid" else None),
        "vendor_id": bills[0]["vendor_id"],
        "bill_groups": groups,
        "rail": rail,
        "source_type": source_type,
        "source_name": source_name,
    }
    site.payments[pid] = payment
    return payment


def set_status(site: Site, payment_id: int, status: str, now: datetime) -> dict[str, Any]:
    """Move a payment on (processing → paid) or back (paid → failed/denied: a reversal)."""
    if status not in STATUSES:
        raise ValueError(f"unknown payment status {status!r}")
    payment = site.payments[payment_id]
    payment["status"] = status
    if status == "paid" and payment["posted_date"] is None:
        payment["posted_date"] = now.date()
    payment["updated"] = max(now, payment["updated"] + timedelta(microseconds=1))
    return payment


def payment_by_uuid(site: Site, payment_uuid: str) -> dict[str, Any]:
    wanted = payment_uuid.replace("-", "").lower()
    return next(p for p in site.payments.values() if p["uuid"] == wanted)


def render(site: Site, payment: dict[str, Any]) -> dict[str, Any]:
    vendor = site.vendors.get(payment["vendor_id"]) or {}
    return {
        "id": payment["id"],
        "uuid": payment["uuid"],
        "payment_source_name": payment["source_name"],
        "payment_source_type": payment["source_type"],
        "external_payment_source_id": None,
        "creator": {"email": site.email, "first_name": "Integration", "last_name": "User"},
        "created_at": stamp(payment["created"]),
        "updated_at": stamp(payment["updated"]),
        "amount": money(payment["amount"]),
        "currency": {"id": payment["currency_id"], "name": currency(site, payment["currency_id"])["name"]},
        "status": payment["status"],
        "processing_date": day(payment["processing_date"]),
        "direct_debit_bank_account_mask": "6789" if payment["source_type"] == "direct_debit" else None,
        "vendor_name": vendor.get("name"),
        "posted_date": payment["posted_date"].isoformat() if payment["posted_date"] else None,
        "gl_code": "1000" if payment["source_type"] != "external" else None,
        "vendor_payment_method_country_code": "US" if payment["rail"] else None,
        "vendor_payment_method_rail": payment["rail"],
        "bill_groups": list(payment["bill_groups"]),
    }


def payments(site: Site, request: httpx.Request) -> httpx.Response:
    params = request.url.params
    rows = sorted(site.payments.values(), key=lambda p: p["id"])
    for name, key in (("updated_at", "updated"), ("created_at", "created")):
        rows = _between(rows, params, name, lambda p, key=key: p[key])
    rows = _between(rows, params, "processing_date", lambda p: _midnight(p["processing_date"]))
    if params.get("status"):
        wanted = _choices(params["status"], "status", STATUSES)
        rows = [p for p in rows if p["status"] in wanted]
    if params.get("ids"):
        ids = _ints(params["ids"], "ids")
        rows = [p for p in rows if p["id"] in ids]
    if params.get("bill_groups"):
        groups = _ints(params["bill_groups"], "bill_groups")
        rows = [p for p in rows if groups & set(p["bill_groups"])]
    if params.get("vendor"):
        rows = [p for p in rows if {p["vendor_id"]} & _ints(params["vendor"], "vendor")]
    if params.get("currency"):
        rows = [p for p in rows if {p["currency_id"]} & _ints(params["currency"], "currency")]
    if params.get("invoice_number"):
        invoice_groups = {
            b.get("group") for b in site.bills.values() if b["invoice_number"] == params["invoice_number"]
        }
        rows = [p for p in rows if invoice_groups & set(p["bill_groups"])]
    if params.get("payment_amount"):
        rows = [p for p in rows if p["amount"] == _decimal(params["payment_amount"], "payment_amount")]
    order = params.get("order_by")
    if order:
        if order not in ORDER_BY:  # django-filter's OrderingFilter refuses a value outside its enum
            raise api.BadFilter(
                "order_by", f"Select a valid choice. {order} is not one of the available choices."
            )
        key = "updated" if order.lstrip("-") == "updated_at" else "created"
        rows = sorted(rows, key=lambda p: p[key], reverse=order.startswith("-"))  # ties keep id order
    return api.envelope(request, [render(site, p) for p in rows])


def _between(rows: list[dict[str, Any]], params: httpx.QueryParams, name: str, get: Any) -> list[dict]:
    """public/v1's `<name>_after` / `<name>_before`: on or after, on or before (procurify.md §2)."""
    for suffix, keep in (("_after", lambda v, b: v >= b), ("_before", lambda v, b: v <= b)):
        raw = params.get(name + suffix)
        if raw:
            bound = api._when(name + suffix, raw)
            rows = [r for r in rows if get(r) is not None and keep(get(r), bound)]
    return rows


def _midnight(value: date | None) -> datetime | None:
    return datetime(value.year, value.month, value.day, tzinfo=UTC) if value else None


def _choices(raw: str, name: str, allowed: tuple[str, ...]) -> set[str]:
    values = {v.strip() for v in raw.split(",") if v.strip()}
    bad = sorted(values - set(allowed))
    if bad:
        raise api.BadFilter(name, f"Select a valid choice. {bad[0]} is not one of the available choices.")
    return values


def _ints(raw: str, name: str) -> set[int]:
    try:
        return {int(v) for v in raw.split(",") if v.strip()}
    except ValueError:
        raise api.BadFilter(name, "Enter a whole number.") from None


def _decimal(raw: str, name: str) -> Decimal:
    try:
        return Decimal(raw).quantize(CENT)
    except ArithmeticError:
        raise api.BadFilter(name, "Enter a number.") from None
