"""Where each stream's cursor is kept: one `SyncCursor` row per organisation and stream, written
optimistically. The rules for moving a cursor are pure and live in cursors.py; the steps that poll
(engine.py, payments.py) load and save through here."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from connector.errors import Permanent
from connector.models import SyncCursor
from tenants.models import Organisation


class CursorConflict(Permanent):
    """Someone else moved the cursor; the one-active-run constraint should make this impossible."""


def load_cursor(organisation: Organisation, stream: str) -> SyncCursor:
    cursor, _ = SyncCursor.objects.get_or_create(organisation=organisation, stream=stream)
    return cursor


def save_cursor(cursor: SyncCursor, value: datetime | None) -> None:
    """Optimistic write: only if nobody moved the cursor since we read it."""
    if value == cursor.value:
        return
    moved = SyncCursor.objects.filter(pk=cursor.pk, version=cursor.version).update(
        value=value, version=cursor.version + 1, updated_at=timezone.now()
    )
    if not moved:
        raise CursorConflict(f"The {cursor.stream} cursor was moved by another run.", code="cursor_conflict")
    cursor.value, cursor.version = value, cursor.version + 1
