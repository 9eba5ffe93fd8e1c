"""The one date-time format of the product, with its zone: 'Tue 2 Dec 2026, 07:00 PST'.

Pages use it through the ``when`` filter (connector/templatetags/finance.py); presenters call it directly.
"""

from __future__ import annotations

import contextlib
import zoneinfo
from datetime import date, datetime
from typing import Any

from django.utils import timezone

WHEN_FORMAT = "%a %-d %b %Y, %H:%M"


def format_when(value: Any, time_zone: str = "") -> str:
    if not isinstance(value, datetime):
        return value.strftime("%a %-d %b %Y") if isinstance(value, date) else ""
    zone: Any = timezone.get_current_timezone()  # org_view activates the organisation's zone
    if time_zone:
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(time_zone)
    local = value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
    return f"{local.strftime(WHEN_FORMAT)} {local.tzname()}"
