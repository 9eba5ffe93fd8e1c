"""Amounts for the dashboard and the run pages, summed per currency in the database (Decimal, to the cent).

Amounts come from DocumentSummary (what Procurify said the document owes when it was last read);
whether a document is in QuickBooks or held comes from ExternalRecord and HeldRecord.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from connector.document_summary import DocumentSummary
from connector.kinds import RecordKind
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from tenants.models import Organisation


def month_start(organisation: Organisation, now: datetime | None = None) -> datetime:
    """Midnight on the 1st in the organisation's zone: "this month" is the finance team's month."""
    local = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(organisation.time_zone or "UTC"))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _sum_by_currency(rows: Any) -> list[tuple[str, Decimal]]:
    totals = rows.order_by().values("currency").annotate(total=Sum("total"), n=Count("pk"))
    return [
        (row["currency"], row["total"]) for row in totals.order_by("currency") if row["total"] is not None
    ]


def synced_this_month(organisation: Organisation, now: datetime | None = None) -> list[tuple[str, Decimal]]:
    written = ExternalRecord.objects.filter(
        organisation=organisation,
        object_type=RecordKind.BILL,
        procurify_id=OuterRef("procurify_id"),
        state=ExternalRecord.State.SYNCED,
        last_synced_at__gte=month_start(organisation, now),
    )
    return _sum_by_currency(
        DocumentSummary.objects.filter(organisation=organisation, object_type=RecordKind.BILL).filter(
            Exists(written)
        )
    )


def on_hold(organisation: Organisation) -> list[tuple[str, Decimal]]:
    held = (
        HeldRecord.objects.for_org(organisation)
        .open()
        .filter(object_type=RecordKind.BILL, procurify_id=OuterRef("procurify_id"))
    )
    return _sum_by_currency(
        DocumentSummary.objects.filter(organisation=organisation, object_type=RecordKind.BILL).filter(
            Exists(held)
        )
    )


# What a record's events in one run say happened to it, most decisive first.
OUTCOMES = (
    ("held", Q(kind=AuditEvent.Kind.HOLD)),
    ("failed", Q(kind=AuditEvent.Kind.ERROR)),
    ("written", Q(kind=AuditEvent.Kind.RESPONSE)),
    ("unchanged", Q(kind=AuditEvent.Kind.DECISION, message__startswith="Unchanged")),
)
OUTCOME_LABELS = {
    "held": "Held",
    "failed": "Failed",
    "written": "Written",
    "unchanged": "Unchanged",
    "read": "Read",
}


def run_rows(organisation: Organisation, run: SyncRun) -> Any:
    """The records a run touched, each with event counts per outcome (decided by `outcome_of`)."""
    return (
        AuditEvent.objects.filter(organisation=organisation, run=run)
        .exclude(procurify_id="")
        .values("object_type", "procurify_id")
        .annotate(**{f"n_{name}": Count("id", filter=cond) for name, cond in OUTCOMES})
    )


def outcome_of(row: dict[str, Any]) -> str:
    return next((name for name, _ in OUTCOMES if row.get(f"n_{name}")), "read")


def attach_amounts(organisation: Organisation, rows: list[dict[str, Any]]) -> None:
    """Adds outcome, currency and amount to each run row (one query for the page)."""
    ids = {r["procurify_id"] for r in rows}
    summaries = {
        (s.object_type, s.procurify_id): s
        for s in DocumentSummary.objects.filter(organisation=organisation, procurify_id__in=ids)
    }
    for row in rows:
        summary = summaries.get((row["object_type"], row["procurify_id"]))
        row["outcome"] = outcome_of(row)
        row["outcome_label"] = OUTCOME_LABELS[row["outcome"]]
        row["currency"] = summary.currency if summary else ""
        row["amount"] = summary.total if summary else None
        row["number"] = summary.number if summary else ""


def run_totals(organisation: Organisation, run: SyncRun) -> dict[str, list[tuple[str, Decimal]]]:
    """Per outcome (written, held, …), the bills' amounts per currency across the whole run."""
    pairs: dict[str, dict[str, Decimal]] = {}
    rows = list(run_rows(organisation, run).filter(object_type=RecordKind.BILL))
    summaries = dict(
        (s.procurify_id, s)
        for s in DocumentSummary.objects.filter(
            organisation=organisation,
            object_type=RecordKind.BILL,
            procurify_id__in=[r["procurify_id"] for r in rows],
        )
    )
    for row in rows:
        summary = summaries.get(row["procurify_id"])
        if summary is None or summary.total is None:
            continue
        bucket = pairs.setdefault(outcome_of(row), {})
        bucket[summary.currency] = bucket.get(summary.currency, Decimal(0)) + summary.total
    return {outcome: sorted(totals.items()) for outcome, totals in pairs.items()}
