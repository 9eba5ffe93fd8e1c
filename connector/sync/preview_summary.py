"""The preview, summed the way a person decides whether to start syncing: per vendor (count and
amount per currency, never added across currencies) and per hold reason (what will wait, and why)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.sync.preview import Preview

HOLD = "hold"


def by_vendor(result: Preview) -> list[dict[str, Any]]:
    """One row per (vendor, currency): documents written, documents held, and their amounts."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in result.items:
        key = (item.vendor or "—", item.currency)
        row = rows.setdefault(
            key,
            {
                "vendor": key[0],
                "currency": key[1],
                "written": 0,
                "written_amount": Decimal(0),
                "held": 0,
                "held_amount": Decimal(0),
            },
        )
        prefix = "held" if item.action == HOLD else "written"
        row[prefix] += 1
        row[f"{prefix}_amount"] += item.amount or Decimal(0)
    return sorted(rows.values(), key=lambda r: (r["vendor"].lower(), r["currency"]))


def holds_by_reason(result: Preview) -> list[dict[str, Any]]:
    """What will be held and why: one row per (reason, currency) with count and amount."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in result.items:
        if item.action != HOLD:
            continue
        key = (item.reason or "Held", item.currency)
        row = rows.setdefault(key, {"reason": key[0], "currency": key[1], "count": 0, "amount": Decimal(0)})
        row["count"] += 1
        row["amount"] += item.amount or Decimal(0)
    return sorted(rows.values(), key=lambda r: (-r["count"], r["reason"]))
