"""Field-level diffs between what we wrote to QuickBooks, what it holds now and what Procurify says now.

Pure. Only the fields our payloads write are compared (plus the total): we update sparsely, so a field
a person changed that we never send is not a conflict and never overwritten (docs/qbo-facts.md, "Drift").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

ALWAYS = ("TotalAmt",)  # what a finance reader checks first, though we never send it
WRITTEN = "written"  # ExternalRecord.extra key: {"keys", "sent", "qbo"} of the last write


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested JSON → {"Line[0].Amount": "12.5", …}; numbers normalised so 12.50 == 12.5."""
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list | tuple):
        out = {}
        for index, inner in enumerate(value):
            out.update(flatten(inner, f"{prefix}[{index}]"))
        return out
    return {prefix: _text(value)}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return format(number.normalize(), "f") if number.is_finite() else str(value)
    return str(value)


def written(answer: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """What to remember of one write: the fields sent, and those fields as QuickBooks stored them."""
    keys = sorted({*payload, *ALWAYS})
    return {"keys": keys, "sent": flatten(dict(payload)), "qbo": _pick(answer, keys)}


def _pick(body: Mapping[str, Any], keys: Iterable[str]) -> dict[str, str]:
    return flatten({k: body[k] for k in keys if k in body})


def qbo_changes(remembered: Mapping[str, Any], now: Mapping[str, Any]) -> list[dict[str, str]]:
    """What someone changed in QuickBooks since our write: before = as we left it, after = now."""
    keys = remembered.get("keys") or []
    return changes(remembered.get("qbo") or {}, _pick(now, keys))


def qbo_fields(remembered: Mapping[str, Any], now: Mapping[str, Any]) -> dict[str, str]:
    return _pick(now, remembered.get("keys") or [])


def procurify_changes(remembered: Mapping[str, Any], payload: Mapping[str, Any]) -> list[dict[str, str]]:
    """What Procurify changed since our write: before = what we sent, after = what we would send now."""
    return changes(remembered.get("sent") or {}, flatten(dict(payload)))


def changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[dict[str, str]]:
    missing = "—"
    return [
        {"field": f, "before": before.get(f, missing), "after": after.get(f, missing)}
        for f in sorted(set(before) | set(after))
        if before.get(f, missing) != after.get(f, missing)
    ]
