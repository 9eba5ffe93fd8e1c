"""The /_sandbox/ inspection page: what the QBO fake holds now, per realm (for the demo)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Sandbox

_COLUMNS = {
    "Vendor": ["Id", "DisplayName", "Active", "CurrencyRef", "SyncToken"],
    "Bill": [
        "Id",
        "DocNumber",
        "VendorRef",
        "TxnDate",
        "TotalAmt",
        "Balance",
        "CurrencyRef",
        "SyncToken",
        "PrivateNote",
    ],
    "PurchaseOrder": ["Id", "DocNumber", "VendorRef", "POStatus", "TotalAmt", "SyncToken"],
}


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("name") or value.get("value")
    return escape("" if value is None else str(value))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_page(sb: Sandbox) -> str:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Sandbox</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}th{background:#eee}</style>",
        f"<h1>Sandbox</h1><p>Clock: {escape(sb.clock.now().isoformat())}"
        f"{' (frozen)' if sb.clock.frozen else ''} · <a href='state'>state</a> · <a href='stats'>stats</a> · "
        "<a href='credentials'>credentials</a></p>",
    ]
    for rid, realm in sb.qbo.realms.items():
        parts.append(f"<h2>QBO realm {escape(rid)} — {escape(realm.company_name)}</h2>")
        for entity, columns in _COLUMNS.items():
            rows = sb.qbo.objects(rid, entity)
            parts.append(f"<h3>{entity} ({len(rows)})</h3>")
            parts.append(_table(rows[-200:], columns))  # the newest 200 keep the page light
    for domain, site in sb.procurify.sites.items():
        parts.append(
            f"<h2>Procurify {escape(domain)}</h2><p>{len(site.bills)} bills, {len(site.vendors)} vendors</p>"
        )
    return "".join(parts)
