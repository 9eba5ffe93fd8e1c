"""The held list grouped by what the bills wait on, with one sentence and one fix per group:

"6 bills, 18,240.00 USD, wait on vendor Delta Freight Logistics being active — reactivate it or map it."

Groups are counted and totalled over every held row that matches the filters (not one page), so
the sentence's count and total are the whole truth; amounts are summed per currency, never mixed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from connector import hold_reasons
from connector.hold_reasons import ReasonCode
from connector.kinds import KINDS, RecordKind
from connector.money import format_totals


def group_key(row: Any) -> tuple[str, str, str]:
    return (row.reason_code, row.waiting_on_type, row.waiting_on_key if row.waiting_on_type else "")


def groups(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Rows (held records annotated by finder.with_documents) → ordered groups with their sentence."""
    out: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
    for row in rows:
        group = out.setdefault(
            group_key(row),
            {"key": group_key(row), "code": row.reason_code, "first": row, "rows": [], "types": set()},
        )
        group["rows"].append(row)
        group["types"].add(row.object_type)
    for group in out.values():
        rows_ = group["rows"]
        group["count"] = len(rows_)
        group["totals"] = format_totals((r.doc_currency or "", r.doc_total) for r in rows_)
        group["unpriced"] = sum(1 for r in rows_ if r.doc_total is None)
        group["title"] = hold_reasons.title(group["code"])
        group["sentence"] = sentence(group)
        group["anchor"] = "-".join(p for p in group["key"] if p).replace(":", "-")
    return list(out.values())


def sentence(group: dict[str, Any]) -> str:
    count, first = group["count"], group["first"]
    types = group["types"]
    singular, plural = _type_words(next(iter(types))) if len(types) == 1 else ("record", "records")
    noun = singular if count == 1 else plural
    verb = "waits" if count == 1 else "wait"
    amount = f", {group['totals']}" if group["totals"] != "—" else ""
    detail = {k: v for k, v in (first.detail or {}).items() if isinstance(v, str)}
    if group["code"] == ReasonCode.VENDOR_CURRENCY_MISMATCH and "currency" not in detail:
        detail["currency"] = first.waiting_on_key.partition(":")[2] or "its currency"
    reason = hold_reasons.find(group["code"])
    if reason is not None and reason.group:
        fields = {"vendor": first.doc_vendor or "?", "account": "?", "currency": "?", **detail}
        return f"{count} {noun}{amount}, {verb} on {reason.group.format_map(fields)} — {reason.fix}."
    return f"{count} {noun}{amount}: {group['title'].rstrip('.')}."


def _type_words(object_type: str) -> tuple[str, str]:
    held_noun = KINDS[RecordKind(object_type)].held_noun if object_type in RecordKind.values else ("", "")
    return held_noun if held_noun[0] else ("record", "records")
