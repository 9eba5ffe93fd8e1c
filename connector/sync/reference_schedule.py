"""When QuickBooks' reference data (company settings, vendor, account and term lists) is read again.

Each read is a metered call (docs/qbo-facts.md, "Limits per company, and what is metered"), and polling
Procurify costs QuickBooks nothing, so a poll that finds nothing new must not read QuickBooks at all.
The lists are read again when something needs them:

- the first sync, or the company's settings were never read;
- a person asks ("Sync now", the command line);
- something new appeared that only QuickBooks' lists can place (a Procurify vendor or account code we
  had not seen), or QuickBooks refused a record for a reason fixable on its side (``request_refresh``);
- and on a slow schedule (settings.QBO_REFERENCE_REFRESH_HOURS), for changes made in QuickBooks.

The last read is kept as a SyncCursor (stream ``qbo_reference``); an empty value means "read next run".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from connector.models import SyncCursor, SyncRun
from mappings.models import BooksProfile
from tenants.models import Organisation

STREAM = "qbo_reference"
ASKED = (SyncRun.Trigger.MANUAL, SyncRun.Trigger.COMMAND)
DEFAULT_HOURS = 24


def due_reason(organisation: Organisation, now: datetime, trigger: str | None) -> str:
    """Why QuickBooks' reference data must be read this run, or "" when the copies will do."""
    if trigger in ASKED:
        return "asked"
    if not BooksProfile.objects.filter(organisation=organisation).exclude(qbo_home_currency="").exists():
        return "first"
    cursor = SyncCursor.objects.filter(organisation=organisation, stream=STREAM).first()
    if cursor is None or cursor.value is None:
        return "requested"
    hours = int(getattr(settings, "QBO_REFERENCE_REFRESH_HOURS", DEFAULT_HOURS))
    if now - cursor.value >= timedelta(hours=hours):
        return "schedule"
    return ""


def request_refresh(organisation: Organisation) -> None:
    """Read QuickBooks' reference data on the next run (a QuickBooks-side refusal, a person's request)."""
    SyncCursor.objects.filter(organisation=organisation, stream=STREAM).update(value=None)


def mark_refreshed(organisation: Organisation, now: datetime) -> None:
    SyncCursor.objects.update_or_create(organisation=organisation, stream=STREAM, defaults={"value": now})
