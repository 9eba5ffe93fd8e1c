"""A record page's document: what Procurify says (the latest audited read) next to what QuickBooks
holds (the latest body we sent for it), line by line with account codes → QuickBooks accounts.

Everything comes from the audit trail and the reference copies; the page makes no API call.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from connector import kinds
from connector.kinds import RecordKind
from connector.models import AuditEvent
from connector.money import to_decimal
from connector.when import format_when
from mappings.models import AccountMapping, QBOAccount, QBOVendor


def latest_document(events: list[AuditEvent]) -> dict[str, Any] | None:
    """The newest audited read that carries the record itself (not a lookup or a SyncToken re-read)."""
    for event in events:  # newest first
        if event.kind == AuditEvent.Kind.READ and isinstance(event.data, dict) and event.data.get("uuid"):
            return event.data
    return None


def latest_sent(events: list[AuditEvent]) -> dict[str, Any] | None:
    for event in events:
        body = event.data.get("body") if isinstance(event.data, dict) else None
        if event.kind == AuditEvent.Kind.REQUEST and isinstance(body, dict):
            return body
    return None


def build(organisation: Any, object_type: str, events: list[AuditEvent], in_qbo: bool) -> dict[str, Any]:
    doc = latest_document(events) or {}
    sent = (latest_sent(events) or {}) if in_qbo else {}
    accounts = _accounts(organisation)
    if object_type == RecordKind.BILL:
        ours = _bill(doc)
        lines = _bill_lines(doc, accounts)
    elif object_type == RecordKind.PURCHASE_ORDER:
        ours = _po(doc)
        lines = _po_lines(doc, accounts)
    else:
        return {}
    theirs = _qbo(sent, organisation, accounts["by_qbo_id"])
    facts = [
        ("Number", ours["number"], sent.get("DocNumber", "")),
        ("Vendor", ours["vendor"], theirs["vendor"]),
        ("Date", _show_day(ours["date"]), _show_day(sent.get("TxnDate", ""))),
        ("Due", _show_day(ours["due"]), _show_day(sent.get("DueDate", ""))),
        ("Currency", ours["currency"], (sent.get("CurrencyRef") or {}).get("value", "")),
        (
            "Exchange rate",
            ours["rate"],
            str(sent.get("ExchangeRate", "")) if sent.get("ExchangeRate") else "",
        ),
    ]
    return {
        "title": _title(object_type, ours),
        "ours": ours,
        "facts": [
            {
                "label": label,
                "ours": a or "—",
                "theirs": b or ("—" if sent else ""),
                "differs": bool(sent and b and a != b),
            }
            for label, a, b in facts
        ],
        "lines": lines,
        "qbo_lines": theirs["lines"],
        "qbo_total": theirs["total"],
        "has_qbo": bool(sent),
        "raw_document": json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) if doc else "",
        "raw_sent": json.dumps(sent, indent=2, sort_keys=True, ensure_ascii=False) if sent else "",
    }


def _title(object_type: str, ours: dict[str, Any]) -> str:
    kind = kinds.spec(object_type).label
    number = ours["number"] or "without a number"
    return f"{kind} {number}" + (f" from {ours['vendor']}" if ours["vendor"] else "")


def _show_day(value: Any) -> str:
    """'2026-11-03' → 'Tue 3 Nov 2026', the product's one date format (a calendar date has no zone)."""
    try:
        return format_when(date.fromisoformat(value[:10])) if isinstance(value, str) and value else ""
    except ValueError:
        return value


def _day(value: Any) -> str:
    return value[:10] if isinstance(value, str) else ""


def _bill(doc: dict[str, Any]) -> dict[str, Any]:
    total, converted = to_decimal(doc.get("total_cost_with_tax")), to_decimal(doc.get("converted_total_cost"))
    rate = ""
    if total and converted and total != converted:
        rate = str((converted / (to_decimal(doc.get("total_cost")) or total)).quantize(Decimal("0.000001")))
    return {
        "number": doc.get("invoice_number") or "",
        "vendor": (doc.get("vendor") or {}).get("name") or doc.get("vendor_name") or "",
        "date": _day(doc.get("invoice_date") or doc.get("submitted_date")),
        "due": _day(doc.get("due_date")),
        "currency": ((doc.get("currency") or {}).get("name") or "").upper(),
        "rate": rate,
        "total": total,
    }


def _po(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": doc.get("number") or "",
        "vendor": (doc.get("pref_vendor") or {}).get("name") or "",
        "date": _day(doc.get("date")),
        "due": "",
        "currency": ((doc.get("purchased_currency") or {}).get("name") or "").upper(),
        "rate": "",
        "total": to_decimal(doc.get("total")),
    }


def _accounts(organisation: Any) -> dict[str, dict[str, Any]]:
    names = dict(
        QBOAccount.objects.filter(organisation=organisation).values_list("qbo_id", "fully_qualified_name")
    )
    by_code: dict[str, str] = {}
    by_qbo_id: dict[str, str] = {}
    for code, qbo_id, stored in AccountMapping.objects.filter(organisation=organisation).values_list(
        "code", "qbo_account_id", "qbo_account_name"
    ):
        by_code[code] = names.get(qbo_id) or stored if qbo_id else ""
        if qbo_id:
            by_qbo_id.setdefault(qbo_id, code)
    return {"by_code": by_code, "by_qbo_id": by_qbo_id, "names": names}


def _line(description: str, code: str, amount: Any, accounts: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description or "—",
        "code": code or "—",
        "qbo_account": accounts["by_code"].get(code, "") or "not mapped",
        "amount": to_decimal(amount),
    }


def _bill_lines(doc: dict[str, Any], accounts: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    for item in doc.get("items") or []:
        for allocation in item.get("cost_allocations") or []:
            code = (((allocation.get("budget") or {}).get("account_code")) or {}).get("code", "")
            lines.append(_line(item.get("description") or "", str(code), allocation.get("amount"), accounts))
    for cost in doc.get("costs") or []:
        raw = cost.get("cost_allocation")
        code = (
            ((raw or {}).get("budget") or {}).get("account_code", {}).get("code", "")
            if isinstance(raw, dict)
            else ""
        )
        lines.append(_line(cost.get("name") or "Additional cost", str(code), cost.get("amount"), accounts))
    return lines


def _po_lines(doc: dict[str, Any], accounts: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in doc.get("order_items") or []:
        code = (((item.get("account") or {}).get("account_code")) or {}).get("code", "")
        out.append(_line(item.get("name") or "", str(code), item.get("total_cost"), accounts))
    return out


def _qbo(sent: dict[str, Any], organisation: Any, codes: dict[str, str]) -> dict[str, Any]:
    vendor_id = (sent.get("VendorRef") or {}).get("value", "")
    vendor = ""
    if vendor_id:
        vendor = (
            QBOVendor.objects.filter(organisation=organisation, qbo_id=vendor_id)
            .values_list("display_name", flat=True)
            .first()
            or f"vendor {vendor_id}"
        )
    names = dict(
        QBOAccount.objects.filter(organisation=organisation).values_list("qbo_id", "fully_qualified_name")
    )
    lines, total = [], Decimal(0)
    for line in sent.get("Line") or []:
        detail = line.get("AccountBasedExpenseLineDetail") or line.get("ItemBasedExpenseLineDetail") or {}
        account_id = (detail.get("AccountRef") or {}).get("value", "")
        amount = to_decimal(line.get("Amount"))
        total += amount or Decimal(0)
        lines.append(
            {
                "description": line.get("Description") or "—",
                "qbo_account": names.get(account_id) or (f"account {account_id}" if account_id else "—"),
                "code": codes.get(account_id, "—"),
                "amount": amount,
            }
        )
    return {"vendor": vendor, "lines": lines, "total": total if lines else None}
