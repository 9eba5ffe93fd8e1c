"""The SyncRun state machine and the schedule (style.md items 10, 11).

queued → running → succeeded | failed | abandoned. The database refuses a second active run per
organisation (constraint ``connector_syncrun_one_active``); claiming is a conditional update, so
two workers handed the same run cannot both start it.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from connector.models import SyncRun
from tenants.models import Organisation, SyncSchedule

STALE_AFTER = timedelta(minutes=15)  # no heartbeat for this long: the worker is gone
FAILURE_BACKOFF = timedelta(minutes=30)  # a tenant that failed to dispatch waits this long


def enqueue_run(organisation: Organisation, trigger: str = SyncRun.Trigger.SCHEDULE) -> SyncRun | None:
    """A new queued run, or None when the organisation already has one queued or running."""
    try:
        with transaction.atomic():
            return SyncRun.objects.create(organisation=organisation, trigger=trigger)
    except IntegrityError:
        return None


def claim_run(run_id: int, now: datetime) -> SyncRun | None:
    """queued → running. None when someone else already claimed it (count 0)."""
    claimed = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return SyncRun.objects.get(pk=run_id) if claimed else None


def beat(run: SyncRun, now: datetime, step: str | None = None) -> None:
    fields = {"heartbeat_at": now} | ({"step": step} if step else {})
    SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(**fields)


def finish_run(run: SyncRun, status: str, *, counts: dict, error: str, now: datetime) -> None:
    SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
        status=status, counts=counts, error=error[:2000], finished_at=now, heartbeat_at=now
    )
    run.refresh_from_db()


def reap_abandoned(now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Runs whose worker stopped beating become abandoned, which frees the organisation."""
    cutoff = now - stale_after
    running = SyncRun.objects.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=cutoff).update(
        status=SyncRun.Status.ABANDONED,
        finished_at=now,
        error="The worker running this sync stopped responding. The next run picks up where it left off.",
    )
    # A queued run nobody picked up (broker lost the message) would block the tenant forever.
    queued = SyncRun.objects.filter(status=SyncRun.Status.QUEUED, created_at__lt=cutoff).update(
        status=SyncRun.Status.ABANDONED, finished_at=now, error="This sync was never started by a worker."
    )
    return running + queued


def next_run_at(schedule: SyncSchedule, now: datetime, time_zone: str) -> datetime:
    """The next due time: now + interval, or the next daily time in the organisation's zone."""
    if schedule.mode == SyncSchedule.Mode.DAILY and schedule.daily_time is not None:
        zone = zoneinfo.ZoneInfo(time_zone)
        local = now.astimezone(zone)
        candidate = datetime.combine(local.date(), schedule.daily_time, tzinfo=zone)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), schedule.daily_time, tzinfo=zone)
        return candidate.astimezone(UTC)
    return now + timedelta(minutes=max(1, schedule.interval_minutes))


def dispatch_due(now: datetime, enqueue: Callable[[int], None]) -> list[int]:
    """For each due schedule: queue a run and hand its id to `enqueue`; returns the run ids.

    One failing tenant is pushed back and logged on its run, never allowed to crash the beat.
    """
    run_ids = []
    for schedule in _due(now):
        organisation = schedule.organisation
        run = None
        try:
            run = enqueue_run(organisation, SyncRun.Trigger.SCHEDULE)
            schedule.next_run_at = next_run_at(schedule, now, organisation.time_zone)
            schedule.save(update_fields=["next_run_at"])
            if run is not None:
                enqueue(run.pk)
                run_ids.append(run.pk)
        except Exception as exc:
            SyncSchedule.objects.filter(pk=schedule.pk).update(next_run_at=now + FAILURE_BACKOFF)
            if run is not None:  # never leave a queued run that no worker will pick up
                fail_before_start(run.pk, f"The sync could not be queued ({type(exc).__name__}).", now)
    return run_ids


def _due(now: datetime) -> list[SyncSchedule]:
    return list(
        SyncSchedule.objects.select_related("organisation")
        .filter(enabled=True, paused_reason="")
        .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
        .order_by("next_run_at")
    )


def fail_before_start(run_id: int, error: str, now: datetime) -> None:
    """The run could not even start (e.g. no connection): record why, and free the organisation."""
    SyncRun.objects.filter(pk=run_id, status__in=SyncRun.ACTIVE).update(
        status=SyncRun.Status.FAILED, error=error[:2000], finished_at=now
    )
