"""Template filters for the finance pages: {{ amount|money:currency }}, {{ stamp|when:org.time_zone }}."""

from __future__ import annotations

from typing import Any

from django import template

from connector import schedule_days
from connector.money import format_money, format_totals
from connector.sync import progress
from connector.when import format_when

register = template.Library()


@register.filter
def money(amount: Any, currency: str = "") -> str:
    return format_money(amount, currency)


@register.filter
def money_totals(pairs: Any) -> str:
    """[(currency, amount), …] → '18,240.00 USD + 950.00 CAD'."""
    return format_totals(pairs or [])


@register.filter
def when(value: Any, time_zone: str = "") -> str:
    """The one date-time format of the product, with its zone: 'Tue 2 Dec 2026, 07:00 PST'."""
    return format_when(value, time_zone)


@register.filter
def mapping_reason(mapping: Any) -> str:
    """Why a mapping was made, as true today: a reason recorded while the QuickBooks side was inactive
    ("…number of inactive QuickBooks account…") must not outlive its reactivation (read with the
    reference data) — the row's status follows the QuickBooks side, not the day it was matched."""
    reason = getattr(mapping, "reason", "") or ""
    if getattr(mapping, "qbo_inactive", False) or "inactive" not in reason:
        return reason
    return reason.replace("inactive ", "").rstrip(".") + " (active in QuickBooks again)."


@register.filter
def schedule_text(schedule: Any) -> str:
    """'Tuesdays and Thursdays at 07:00' (connector/schedule_days.py)."""
    return schedule_days.describe(schedule) if schedule is not None else ""


@register.filter
def run_progress(run: Any) -> Any:
    """A running run's step title and "n of N" (connector/sync/progress.py)."""
    return progress.card(run)
