"""Who did what: a person's actions on an organisation, kept as audit events with who and when.

Mapping choices, connection changes, role changes, ignores, replays and deletions in QuickBooks are
recorded here (or, for record actions, on the record's own trail with the same ``by`` key); the
organisation's activity page lists every event a person caused, newest first.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from connector.models import AuditEvent
from tenants.models import Organisation


def record(organisation: Organisation, user: Any, message: str, *, action: str, **data: Any) -> None:
    """One thing a person did; ``data`` must hold no secrets (audit rows are shown to members)."""
    by = getattr(user, "email", "") or "someone"
    AuditEvent.objects.create(
        organisation=organisation,
        kind=AuditEvent.Kind.DECISION,
        message=f"{message} ({by})"[:500],
        data={"action": action, "by": by, **data},
    )


def by_people(organisation: Organisation) -> QuerySet[AuditEvent]:
    """Every event a person caused, newest first."""
    return AuditEvent.objects.filter(organisation=organisation, data__has_key="by").order_by(
        "-created_at", "-id"
    )
