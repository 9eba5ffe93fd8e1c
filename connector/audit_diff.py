"""A record's audit timeline with, for each request body, the field-level changes since the previous one
(the record page)."""

from __future__ import annotations

import json
from typing import Any

from connector.models import AuditEvent


def with_diffs(events_newest_first: list[AuditEvent]) -> list[dict[str, Any]]:
    """Each event, and for each request body the field-level changes since the previous body."""
    out: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for event in reversed(events_newest_first):
        body = event.data.get("body") if isinstance(event.data, dict) else None
        changes = None
        if isinstance(body, dict):
            current = flatten(body)
            changes = diff(previous, current) if previous is not None else None
            previous = current
        data_json = json.dumps(event.data, indent=2, sort_keys=True, ensure_ascii=False) if event.data else ""
        out.append({"event": event, "changes": changes, "data_json": data_json})
    out.reverse()
    return out


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key, inner in value.items():
            items.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return items
    if isinstance(value, list):
        items = {}
        for index, inner in enumerate(value):
            items.update(flatten(inner, f"{prefix}[{index}]"))
        return items
    return {prefix: value}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    fields = sorted(set(before) | set(after))
    return [
        {"field": f, "before": before.get(f, "—"), "after": after.get(f, "—")}
        for f in fields
        if before.get(f, "—") != after.get(f, "—")
    ]
