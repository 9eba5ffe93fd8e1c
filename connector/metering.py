"""Count every metered QuickBooks call per organisation and month, and alert at 70% and 90% of the
monthly budget (settings.QBO_METERED_MONTHLY_BUDGET).

Intuit meters read calls per developer workspace per month, every tenant together (docs/qbo-facts.md,
"Limits per company, and what is metered"), so one tenant's careless polling spends everyone's budget.
The client (connector/qbo/client.py) reports each successful metered call through ``on_metered``;
clients built for an organisation (connector/clients.py) pass ``meter_for(organisation_id)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connector.models import MeteredUsage
from connector.usage_emails import send_metered_usage

log = logging.getLogger(__name__)
KINDS = ("reads", "queries", "batches", "cdc")
THRESHOLDS = (70, 90)
DEFAULT_MONTHLY_BUDGET = 5_000


def month_of(moment: datetime) -> date:
    return moment.date().replace(day=1)


def budget() -> int:
    return int(getattr(settings, "QBO_METERED_MONTHLY_BUDGET", DEFAULT_MONTHLY_BUDGET))


def record(organisation_id: int, kind: str, now: datetime | None = None) -> None:
    """One metered call: an atomic increment (several worker processes count at once)."""
    if kind not in KINDS:
        raise ValueError(f"unknown metered kind {kind!r}")
    month = month_of(now or timezone.now())
    rows = MeteredUsage.objects.filter(organisation_id=organisation_id, month=month)
    if not rows.update(**{kind: F(kind) + 1}):
        try:
            with transaction.atomic():
                MeteredUsage.objects.create(organisation_id=organisation_id, month=month, **{kind: 1})
        except IntegrityError:  # another process created this month's row first
            rows.update(**{kind: F(kind) + 1})
    _maybe_alert(organisation_id, month)


def meter_for(organisation_id: int) -> Callable[[str], None]:
    def on_metered(kind: str) -> None:
        try:
            record(organisation_id, kind)
        except Exception:  # counting must never stop a sync
            log.exception("could not count a metered QuickBooks call for organisation %s", organisation_id)

    return on_metered


def _maybe_alert(organisation_id: int, month: date) -> None:
    usage = MeteredUsage.objects.filter(organisation_id=organisation_id, month=month).first()
    limit = budget()
    if usage is None or limit <= 0:
        return
    reached = max((t for t in THRESHOLDS if usage.calls * 100 >= t * limit), default=0)
    if reached <= usage.alerted_percent:
        return
    # Claim the threshold with a conditional update, so only one process sends the mail.
    claimed = MeteredUsage.objects.filter(pk=usage.pk, alerted_percent__lt=reached).update(
        alerted_percent=reached
    )
    if claimed:
        usage.refresh_from_db()
        send_metered_usage(usage, reached, limit)


def usage_months(organisation_id: int, months: int = 12) -> list[MeteredUsage]:
    return list(MeteredUsage.objects.filter(organisation_id=organisation_id).order_by("-month")[:months])
