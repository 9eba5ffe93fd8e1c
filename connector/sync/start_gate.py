"""The first sync waits for a person: nothing is written to QuickBooks until an owner or admin has
seen a preview of what the sync would write and pressed "Start syncing".

The gate sits where syncs are *started* (the schedule's dispatch in connector/sync/runs.py and the
Sync now view), never inside the engine: a run that was queued is a run someone allowed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector import activity
from connector.sync import preview
from tenants.models import Organisation, Provider

WAITING = (
    "Nothing is written to QuickBooks yet: an owner or admin must preview the first sync and press "
    "“Start syncing”."
)


def has_started(organisation: Organisation) -> bool:
    return organisation.syncing_started_at is not None


def why_not_startable(organisation: Organisation) -> str:
    """The plain reason "Start syncing" cannot be pressed yet ("" when it can)."""
    if has_started(organisation):
        return "Syncing has already started."
    usable = {c.provider for c in organisation.connections.all() if c.is_connected}
    if not {Provider.PROCURIFY, Provider.QBO} <= usable:
        return "Connect Procurify and QuickBooks Online first."
    _state, result = preview.stored(organisation)
    if result is None:
        return "Preview the first sync first: you see what it will write before anything is written."
    if result.error:
        return f"The preview says the sync would stop ({result.error}); fix that and preview again."
    return ""


def start(organisation: Organisation, user: Any, now: datetime) -> str:
    """Record who started syncing and when; returns the refusal sentence, or "" when started.

    A conditional update: two admins pressing at once record one decision, the first one.
    """
    if refused := why_not_startable(organisation):
        return refused
    updated = Organisation.objects.filter(pk=organisation.pk, syncing_started_at__isnull=True).update(
        syncing_started_at=now, syncing_started_by=user
    )
    if not updated:
        return "Syncing has already started."
    organisation.refresh_from_db(fields=["syncing_started_at", "syncing_started_by"])
    activity.record(
        organisation, user, "Started syncing to QuickBooks after a preview", action="start_syncing"
    )
    return ""


def started_by_label(organisation: Organisation) -> str:
    """Who started syncing, for "Syncing started by X on <date>" (earlier organisations: nobody named)."""
    user = organisation.syncing_started_by
    return getattr(user, "email", "") or "an earlier sync"
