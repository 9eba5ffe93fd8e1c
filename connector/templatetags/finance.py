"""Template filters for the finance pages: {{ amount|money:currency }}, {{ stamp|when:org.time_zone }}."""

from __future__ import annotations

import contextlib
import zoneinfo
from datetime import date, datetime
from typing import Any

from django import template
from django.utils import timezone

from connector import schedule_days
from connector.money import format_money, format_totals

register = template.Library()

WHEN_FORMAT = "%a %-d %b %Y, %H:%M"


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


def format_when(value: Any, time_zone: str = "") -> str:
    if not isinstance(value, datetime):
        return value.strftime("%a %-d %b %Y") if isinstance(value, date) else ""
    zone: Any = timezone.get_current_timezone()  # org_view activates the organisation's zone
    if time_zone:
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(time_zone)
    local = value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
    return f"{local.strftime(WHEN_FORMAT)} {local.tzname()}"


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
    from connector.sync import progress

    return progress.card(run)
