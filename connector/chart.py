"""A small server-rendered bar chart for the dashboard: amounts synced and held per week.

Eight weeks (Monday to Sunday in the organisation's zone) in one currency — the one with the most
money in the period, named in the title; other currencies are listed, never added in. Bars are SVG
rectangles with presentation attributes (no inline style, no script: the CSP forbids both).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from connector.document_summary import DocumentSummary
from connector.kinds import RecordKind
from connector.models import ExternalRecord, HeldRecord
from connector.money import format_money
from tenants.models import Organisation

WEEKS = 8
WIDTH, HEIGHT, BAR_AREA = 640, 180, 140


def weekly_amounts(organisation: Organisation, now: datetime | None = None) -> dict[str, Any]:
    zone = zoneinfo.ZoneInfo(organisation.time_zone or "UTC")
    today = (now or timezone.now()).astimezone(zone).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=zone)
    totals = {
        (s.procurify_id): (s.currency, s.total)
        for s in DocumentSummary.objects.filter(
            organisation=organisation, object_type=RecordKind.BILL
        ).exclude(total=None)
        if s.total is not None  # as the query says; for the type checker
    }
    synced: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    held: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    written = ExternalRecord.objects.filter(
        organisation=organisation,
        object_type=RecordKind.BILL,
        state=ExternalRecord.State.SYNCED,
        last_synced_at__gte=since,
    ).values_list("procurify_id", "last_synced_at")
    holds = HeldRecord.objects.filter(
        organisation=organisation, object_type=RecordKind.BILL, first_held_at__gte=since
    ).values_list("procurify_id", "first_held_at")
    for series, rows in ((synced, written), (held, holds)):
        for procurify_id, stamp in rows:
            if procurify_id in totals and stamp is not None:
                currency, amount = totals[procurify_id]
                day = stamp.astimezone(zone).date()
                series[currency][day - timedelta(days=day.weekday())] += amount
    return _chart(first, synced, held)


def _chart(first: date, synced: dict[str, Any], held: dict[str, Any]) -> dict[str, Any]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for series in (synced, held):
        for currency, weeks in series.items():
            sums[currency] += sum(weeks.values(), Decimal(0))
    if not sums:
        return {}
    currency = max(sums, key=lambda c: (sums[c], c))
    weeks = [first + timedelta(weeks=i) for i in range(WEEKS)]
    peak = max(
        [synced[currency].get(w, Decimal(0)) for w in weeks]
        + [held[currency].get(w, Decimal(0)) for w in weeks]
    )
    slot = WIDTH / WEEKS
    bars = []
    for index, week in enumerate(weeks):
        for offset, (kind, series) in enumerate((("synced", synced), ("held", held))):
            amount = series[currency].get(week, Decimal(0))
            height = float(amount / peak * BAR_AREA) if peak else 0.0
            bars.append(
                {
                    "kind": kind,
                    "x": round(index * slot + 8 + offset * (slot / 2 - 6), 1),
                    "y": round(BAR_AREA - height + 10, 1),
                    "width": round(slot / 2 - 10, 1),
                    "height": round(height, 1),
                    "label": f"{kind.capitalize()}, week of {week:%-d %b}: {format_money(amount, currency)}",
                }
            )
    labels = [{"x": round(i * slot + slot / 2, 1), "text": f"{w:%-d %b}"} for i, w in enumerate(weeks)]
    return {
        "currency": currency,
        "others": sorted(c for c in sums if c != currency),
        "bars": bars,
        "labels": labels,
        "width": WIDTH,
        "height": HEIGHT,
        "peak": format_money(peak, currency),
        "baseline": BAR_AREA + 10,
    }
