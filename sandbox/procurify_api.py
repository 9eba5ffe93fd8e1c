"""Procurify's read endpoints: filters, ordering and the paginated envelope (reference §2, §6)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import httpx

from . import procurify_index as index
from . import procurify_render as render
from .procurify_data import Site
from .web import json_response

DEFAULT_PAGE_SIZE = 10  # the spec's examples; the real default is unverified
MAX_PAGE_SIZE = 100
VENDOR_GROUPS = {
    "all",
    "default",
    "preferred",
    "purchasable",
    "requestable",
    "other",
    "credit_card_providers",
}
PO_ROLES = {"purchased", "receivable"}
PO_STATUSES = {"all", "open", "partial", "closed", "cancelled", "paid"}


class BadFilter(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


def not_found() -> httpx.Response:
    return json_response(404, {"detail": "Not found."})


def envelope(request: httpx.Request, rows: list[Any], extra: dict[str, Any] | None = None) -> httpx.Response:
    params = request.url.params
    size = _int(params.get("page_size"), DEFAULT_PAGE_SIZE)
    size = DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)
    page = _int(params.get("page"), 1) if params.get("page", "1").isdigit() else -1
    num_pages = max(1, math.ceil(len(rows) / size))
    if page < 1 or page > num_pages:
        return json_response(404, {"detail": "Invalid page."})  # DRF's default (unverified)

    def link(n: int) -> str:
        return str(request.url.copy_set_param("page", n))

    pagination = {
        "count": len(rows),
        "next": link(page + 1) if page < num_pages else None,
        "previous": link(page - 1) if page > 1 else None,
        "page_size": size,
        "num_pages": num_pages,
        "current_page": page,
    }
    data = rows[(page - 1) * size : page * size]
    return json_response(200, {"metadata": {"pagination": pagination, **(extra or {})}, "data": data})


def _page_of(request: httpx.Request, count: int) -> tuple[int, int, dict[str, Any]] | None:
    """(page, size, pagination) as DRF's page-number paginator answers, or None for an invalid page."""
    params = request.url.params
    size = _int(params.get("page_size"), DEFAULT_PAGE_SIZE)
    size = DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)
    page = _int(params.get("page"), 1) if params.get("page", "1").isdigit() else -1
    num_pages = max(1, math.ceil(count / size))
    if page < 1 or page > num_pages:
        return None

    def link(n: int) -> str:
        return str(request.url.copy_set_param("page", n))

    return (
        page,
        size,
        {
            "count": count,
            "next": link(page + 1) if page < num_pages else None,
            "previous": link(page - 1) if page > 1 else None,
            "page_size": size,
            "num_pages": num_pages,
            "current_page": page,
        },
    )


def _bills_by_index(site: Site, request: httpx.Request, today: date) -> httpx.Response | None:
    """The keyset poll's query, at the cost of one page (procurify_index.py); None: take the full path."""
    params = request.url.params
    bounds = [
        _when(name, params[name]) if params.get(name) else None
        for name in ("last_modified_datetime_0", "last_modified_datetime_1")
    ]
    idx = index.bill_index(site)
    lo, hi = idx.window(bounds[0], bounds[1])
    paging = _page_of(request, hi - lo)
    if paging is None:
        return json_response(404, {"detail": "Invalid page."})
    page, size, pagination = paging
    start = lo + (page - 1) * size
    rows = index.page_rows(site, idx, start, min(hi, start + size))
    if rows is None:
        site.generation += 1  # changed behind the index: the full path answers, the next call rebuilds
        return None
    summary = {"has_multiple_currency": idx.currencies(lo, hi) > 1, "total_cost": float(idx.total(lo, hi))}
    permissions = {"can_edit": True, "can_delete": False, "can_approve": False}
    data = [render.bill_row(site, b, today) for b in rows]
    metadata = {"pagination": pagination, "summary": summary, "permissions": permissions}
    return json_response(200, {"metadata": metadata, "data": data})


def single(data: dict[str, Any], metadata: dict[str, Any] | None = None) -> httpx.Response:
    return json_response(200, {"metadata": metadata or {}, "data": data})


# --- filters --------------------------------------------------------------------------------------


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() in ("true", "1", "yes")


def _when(name: str, value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadFilter(name, "Enter a valid date/time.") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise BadFilter(name, "Enter a valid date.") from None


def range_filter(
    rows: Iterable[dict[str, Any]],
    params: httpx.QueryParams,
    name: str,
    get: Callable[[dict], Any],
    kind: str,
) -> list[dict[str, Any]]:
    """django-filter's `<name>_0` (from) / `<name>_1` (to), both inclusive."""
    rows = list(rows)
    parse = _when if kind == "datetime" else _day
    for suffix, keep in (("_0", lambda v, b: v >= b), ("_1", lambda v, b: v <= b)):
        raw = params.get(name + suffix)
        if raw:
            bound = parse(name + suffix, raw)
            rows = [r for r in rows if get(r) is not None and keep(_as(get(r), kind), bound)]
    return rows


def _as(value: Any, kind: str) -> Any:
    return value.date() if kind == "date" and isinstance(value, datetime) else value


def order(rows: list[dict[str, Any]], params: httpx.QueryParams, fields: dict[str, Callable]) -> list[dict]:
    """`order_by=a,-b`: DRF's comma list; unknown fields are ignored, as DRF does."""
    raw = params.get("order_by") or params.get("ordering") or ""
    names = [name.strip() for name in raw.split(",") if name.strip()]
    keys = [(fields[name.lstrip("-")], name.startswith("-")) for name in names if name.lstrip("-") in fields]
    for key, descending in reversed(keys):  # stable sorts, least significant field first
        rows = sorted(rows, key=lambda r, key=key: (key(r) is None, key(r)), reverse=descending)
    return rows


# --- resources ------------------------------------------------------------------------------------


def vendors(site: Site, request: httpx.Request, group: str | None) -> httpx.Response:
    if group is not None and group not in VENDOR_GROUPS:
        return not_found()
    params = request.url.params
    rows = list(site.vendors.values())
    if group == "preferred":
        rows = [v for v in rows if v["type"] == 3]
    elif group == "other":
        rows = [v for v in rows if v["type"] == 1]
    elif group in ("purchasable", "requestable"):
        rows = [v for v in rows if v["active"]]
    if params.get("name"):
        rows = [v for v in rows if v["name"] == params["name"]]
    if params.get("external_id"):
        rows = [v for v in rows if v["external_id"] == params["external_id"]]
    if params.get("type"):
        rows = [v for v in rows if str(v["type"]) == params["type"]]
    if params.get("type__in"):
        rows = [v for v in rows if str(v["type"]) in params["type__in"].split(",")]
    if _flag(params.get("exclude_other")):
        rows = [v for v in rows if v["id"] != 1]
    if params.get("search"):
        rows = [v for v in rows if params["search"].casefold() in v["name"].casefold()]
    rows = order(rows, params, {"id": lambda v: v["id"], "name": lambda v: v["name"].casefold()})
    return envelope(request, [dict(v) for v in rows])


def account_codes(site: Site, request: httpx.Request) -> httpx.Response:
    params = request.url.params
    rows = list(site.account_codes.values())
    if _flag(params.get("active")) is not None:
        rows = [a for a in rows if a["active"] == _flag(params.get("active"))]
    if params.get("code"):
        rows = [a for a in rows if a["code"] == params["code"]]
    if params.get("search"):
        needle = params["search"].casefold()
        rows = [a for a in rows if needle in a["code"].casefold() or needle in a["description"].casefold()]
    rows = order(rows, params, {"id": lambda a: a["id"], "code": lambda a: a["code"]})
    return envelope(request, [dict(a) for a in rows])


def departments(site: Site, request: httpx.Request) -> httpx.Response:
    params = request.url.params
    rows = [render.department(site, d) for d in site.departments]
    if params.get("branch"):
        rows = [d for d in rows if str(d["branch"]["id"]) == params["branch"]]
    if params.get("search"):
        rows = [d for d in rows if params["search"].casefold() in d["name"].casefold()]
    return envelope(request, rows)


def locations(site: Site, request: httpx.Request) -> httpx.Response:
    params = request.url.params
    rows = [render.location(site, loc) for loc in site.locations]
    for name in ("active", "headquarter"):
        if _flag(params.get(name)) is not None:
            rows = [r for r in rows if r[name] == _flag(params.get(name))]
    return envelope(request, rows)


def currencies(site: Site, request: httpx.Request) -> httpx.Response:
    params = request.url.params
    rows = [render.currency(site, c, full=True) for c in site.currencies]
    if params.get("name"):
        rows = [r for r in rows if r["name"] == params["name"]]
    if _flag(params.get("base")) is not None:
        rows = [r for r in rows if r["base"] == _flag(params.get("base"))]
    return envelope(request, rows)


_BILL_ORDER: dict[str, Callable] = {
    "id": lambda b: b["id"],
    "last_modified_datetime": lambda b: b["last_modified"],
    "invoice_date": lambda b: b.get("invoice_date"),
    "due_date": lambda b: b.get("due_date"),
    "submitted_date": lambda b: b.get("submitted"),
}


def bills(site: Site, request: httpx.Request, today: date) -> httpx.Response:
    params = request.url.params
    if index.usable(params):
        fast = _bills_by_index(site, request, today)
        if fast is not None:
            return fast
    rows = sorted(site.bills.values(), key=lambda b: b["id"])
    rows = range_filter(rows, params, "last_modified_datetime", lambda b: b["last_modified"], "datetime")
    rows = range_filter(rows, params, "modified_date", lambda b: b["last_modified"], "date")
    rows = range_filter(rows, params, "submitted_date", lambda b: b.get("submitted"), "date")
    rows = range_filter(rows, params, "invoice_date", lambda b: b.get("invoice_date"), "date")
    rows = range_filter(rows, params, "due_date", lambda b: b.get("due_date"), "date")
    vendor_ids = params.get_list("vendor") + params.get_list("vendor[]")
    if vendor_ids:
        rows = [b for b in rows if str(b["vendor_id"]) in vendor_ids]
    if params.get("currency"):
        wanted = params["currency"]
        rows = [
            b for b in rows if wanted in (str(b["currency_id"]), site.currencies[b["currency_id"]]["name"])
        ]
    if params.get("type"):
        rows = [b for b in rows if str(b["type"]) == params["type"]]
    if params.get("group"):
        rows = [b for b in rows if str(b.get("group")) == params["group"]]
    if _flag(params.get("has_payment")) is not None:
        rows = [b for b in rows if bool(b.get("paid_on")) == _flag(params.get("has_payment"))]
    rows = order(rows, params, _BILL_ORDER)
    data = [render.bill_row(site, b, today) for b in rows]
    currencies_used = {b["currency_id"] for b in rows}
    summary = {
        "has_multiple_currency": len(currencies_used) > 1,
        "total_cost": sum(r["total_cost_with_tax"] for r in data),
    }
    permissions = {"can_edit": True, "can_delete": False, "can_approve": False}
    return envelope(request, data, {"summary": summary, "permissions": permissions})


def bill(
    site: Site, bill_id: str, today: date, files_base: str = "", now: datetime | None = None
) -> httpx.Response:
    record = site.bills.get(bill_id.replace("-", "").lower())
    if record is None or not re.fullmatch(r"[0-9a-f-]+", bill_id):
        return not_found()
    data = render.bill_detail(site, record, today, files_base, now)
    summary = {"has_multiple_currency": False, "total_cost": data["total_cost_with_tax"]}
    return single(data, {"summary": summary, "permissions": {"can_edit": True, "can_delete": False}})


def _po_status_matches(po: dict[str, Any], status: str) -> bool:
    state, fulfil = po["state"], po["fulfilment_status"]
    return {
        "all": True,
        "open": state in (0, 5) and fulfil != "full",
        "partial": state in (0, 5) and fulfil == "partial",
        "closed": state == 3,
        "cancelled": state == 1,
        "paid": state == 4,
    }[status]


def purchase_orders(site: Site, request: httpx.Request, role: str, status: str) -> httpx.Response:
    if role not in PO_ROLES or status not in PO_STATUSES:
        return not_found()
    params = request.url.params
    rows = sorted(site.pos.values(), key=lambda p: p["id"])
    counts = {s: sum(1 for p in rows if _po_status_matches(p, s)) for s in PO_STATUSES if s != "paid"}
    rows = [p for p in rows if _po_status_matches(p, status)]
    rows = range_filter(rows, params, "modified_date", lambda p: p["last_modified"], "date")
    rows = range_filter(rows, params, "date", lambda p: p["created"], "date")
    if params.get("pref_vendor"):
        rows = [p for p in rows if str(p["vendor_id"]) == params["pref_vendor"]]
    if params.get("currency"):
        rows = [p for p in rows if params["currency"] in (str(p["currency_id"]),)]
    rows = order(rows, params, {"id": lambda p: p["id"], "last_modified": lambda p: p["last_modified"]})
    counts["page"] = _int(params.get("page"), 1)
    return envelope(request, [render.po_row(site, p) for p in rows], {"counts": {role: counts}})


def purchase_order(site: Site, po_id: str) -> httpx.Response:
    if po_id.isdigit():
        record = site.pos.get(int(po_id))
    else:
        wanted = po_id.replace("-", "").lower()
        record = next((p for p in site.pos.values() if p["uuid"] == wanted), None)
    return single(render.po_detail(site, record)) if record else not_found()
