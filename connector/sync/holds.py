"""Held records: hold with a stable reason, release what a fix unblocks, pick what to retry.

A hold stores what it waits on (e.g. ``vendor_mapping`` / ``<procurify vendor id>``). Saving a
mapping releases every hold waiting on it; the next run retries released holds, holds whose
mapping now resolves, and holds whose cause lives in QuickBooks (closed period, validation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from connector.errors import RecordHeld
from connector.hold_reasons import QBO_SIDE, ReasonCode
from connector.kinds import RecordKind
from connector.models import HeldRecord, SyncRun
from tenants.models import Organisation

# QuickBooks-side causes (hold_reasons.QBO_SIDE) are retried after this, not every run: an unchanged
# poll must make zero QBO writes, and re-sending a payload QBO refused a minute ago only earns the same
# refusal. "Retry" in the UI releases a hold at once.
QBO_SIDE_COOLDOWN = timedelta(hours=6)
# Waits the engine checks every run without HTTP: a mapping, or a QuickBooks setting read with the
# reference data ("books": multicurrency turned on, an A/P account in a currency added).
MAPPING_WAITS = frozenset({"vendor_mapping", "account_mapping", "vendor_currency", "books"})


def hold(
    organisation: Organisation,
    object_type: str,
    procurify_id: str,
    exc: RecordHeld,
    *,
    label: str = "",
    run: SyncRun | None = None,
) -> HeldRecord:
    """Create or refresh the one hold row of this record with the latest reason (registered kind and code)."""
    reason_code = ReasonCode(exc.reason_code)  # ValueError: an unregistered code is never stored
    object_type = RecordKind(object_type)  # ... nor an unregistered kind
    waiting_type = getattr(exc, "waiting_on_type", "") or ""
    waiting_key = getattr(exc, "waiting_on_key", "") or ""
    params = getattr(exc, "params", None) or {}
    record, created = HeldRecord.objects.get_or_create(
        organisation=organisation,
        object_type=object_type,
        procurify_id=str(procurify_id),
        defaults={
            "label": label[:200],
            "reason_code": reason_code,
            "message": exc.message,
            "waiting_on_type": waiting_type,
            "waiting_on_key": waiting_key,
            "detail": {k: str(v) for k, v in params.items()},
            "run": run,
        },
    )
    if not created:
        record.label = label[:200] or record.label
        record.reason_code, record.message = reason_code, exc.message
        record.waiting_on_type, record.waiting_on_key = waiting_type, waiting_key
        record.detail = {k: str(v) for k, v in params.items()}
        record.state, record.run = HeldRecord.State.HELD, run
        record.attempts += 1
        record.released_at = record.resolved_at = None
        record.save()
    return record


def resolve(organisation: Organisation, object_type: str, procurify_id: str) -> bool:
    """The record was written (or found unchanged): its hold, if any, is over."""
    now = timezone.now()
    updated = (
        HeldRecord.objects.filter(
            organisation=organisation, object_type=object_type, procurify_id=str(procurify_id)
        )
        .exclude(state=HeldRecord.State.RESOLVED)
        .update(state=HeldRecord.State.RESOLVED, resolved_at=now)
    )
    return bool(updated)


def release_waiting(organisation: Organisation, waiting_on_type: str, waiting_on_key: str) -> int:
    """Mark every hold waiting on this thing as ready for the next run; returns how many."""
    return HeldRecord.objects.filter(
        organisation=organisation,
        state=HeldRecord.State.HELD,
        waiting_on_type=waiting_on_type,
        waiting_on_key=str(waiting_on_key),
    ).update(state=HeldRecord.State.RELEASED, released_at=timezone.now())


def release_reason(organisation: Organisation, reason_code: str) -> int:
    """Mark every open hold with this reason as ready for the next run (a setting it depends on changed)."""
    return HeldRecord.objects.filter(
        organisation=organisation, state=HeldRecord.State.HELD, reason_code=reason_code
    ).update(state=HeldRecord.State.RELEASED, released_at=timezone.now())


def retry_ids(
    organisation: Organisation,
    object_type: str,
    *,
    resolvable: Callable[[str, str], bool],
) -> list[str]:
    """Procurify ids of holds worth retrying now, without any HTTP: released ones, those whose
    mapping now resolves (mapped and active), and those whose cause lives in QuickBooks."""
    rows = HeldRecord.objects.filter(organisation=organisation, object_type=object_type).filter(
        Q(state=HeldRecord.State.RELEASED) | Q(state=HeldRecord.State.HELD)
    )
    out = []
    fields = ("procurify_id", "state", "reason_code", "waiting_on_type", "waiting_on_key", "last_held_at")
    for row in rows.only(*fields):
        if _worth_retrying(row, resolvable):
            out.append(row.procurify_id)
    return out


def _worth_retrying(row: HeldRecord, resolvable: Callable[[str, str], bool]) -> bool:
    if row.state == HeldRecord.State.RELEASED:
        return True
    if row.reason_code in QBO_SIDE:
        # last_held_at is stamped by the database clock on every attempt, so compare with the same clock.
        return row.last_held_at <= timezone.now() - QBO_SIDE_COOLDOWN
    return row.waiting_on_type in MAPPING_WAITS and resolvable(row.waiting_on_type, row.waiting_on_key)


def refused_recently(organisation: Organisation, object_type: str, procurify_id: str, digest: str) -> bool:
    """QuickBooks refused exactly this payload within the cooldown: sending it again cannot help."""
    return HeldRecord.objects.filter(
        organisation=organisation,
        object_type=object_type,
        procurify_id=str(procurify_id),
        state=HeldRecord.State.HELD,
        reason_code__in=QBO_SIDE,
        detail__payload_hash=digest,
        last_held_at__gt=timezone.now() - QBO_SIDE_COOLDOWN,
    ).exists()


def open_holds(organisation: Organisation, object_types: Iterable[str] | None = None) -> list[HeldRecord]:
    rows = HeldRecord.objects.for_org(organisation).open()
    if object_types is not None:
        rows = rows.filter(object_type__in=list(object_types))
    return list(rows)
