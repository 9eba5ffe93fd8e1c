"""Weekdays of a daily schedule ("Tuesdays and Thursdays at 07:00"): parse, describe, next allowed day.

Stored on SyncSchedule.weekdays as ISO weekday numbers, Monday = 1 ("2,4"); empty means every day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

WEEKDAYS = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
]
_NAMES = dict(WEEKDAYS)


def parse(value: str | None) -> list[int]:
    days = {int(part) for part in (value or "").split(",") if part.strip().isdigit()}
    return sorted(day for day in days if 1 <= day <= 7)


def dump(days: list[int] | list[str]) -> str:
    return ",".join(str(day) for day in sorted({int(d) for d in days}))


def next_allowed(day: date, days: list[int]) -> date:
    """The first date on or after `day` whose weekday is allowed (any day when none are chosen)."""
    if not days:
        return day
    while day.isoweekday() not in days:
        day += timedelta(days=1)
    return day


def describe(schedule: Any) -> str:
    """'Every 60 minutes', 'Every day at 07:00', 'Tuesdays and Thursdays at 07:00'."""
    if getattr(schedule, "mode", "") != "daily" or schedule.daily_time is None:
        return f"Every {schedule.interval_minutes} minutes"
    at = f"{schedule.daily_time:%H:%M}"
    days = parse(getattr(schedule, "weekdays", ""))
    if not days or len(days) == 7:
        return f"Every day at {at}"
    if days == [1, 2, 3, 4, 5]:
        return f"Weekdays at {at}"
    names = [f"{_NAMES[d]}s" for d in days]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} at {at}"
