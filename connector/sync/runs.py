"""The SyncRun state machine and the schedule (style.md items 10, 11).

queued → running → succeeded | failed | abandoned. The database refuses a second active run per
organisation (constraint ``connector_syncrun_one_active``); claiming is a conditional update, so
two workers handed the same run cannot both start it.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from connector import schedule_days
from connector.models import SyncRun
from tenants.models import Organisation, Provider, SyncSchedule

STALE_AFTER = timedelta(minutes=15)  # no heartbeat for this long: the worker is gone
# A queued run waits for a free worker. Busy workers are normal (a first sync of 50,000 bills runs
# for the best part of an hour, and tenants queue behind it), so a run queued 15 minutes is not
# lost, and abandoning it dropped that tenant's sync. Only a lost broker message leaves a queued run
# that nobody will pick up; this bound (settings.SYNC_QUEUED_MAX_WAIT_HOURS) frees its tenant.
QUEUED_MAX_WAIT = timedelta(hours=6)
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
    """Runs whose worker stopped beating become abandoned, which frees the organisation.

    A queued run is abandoned only when its organisation can never run it (a connection missing or
    needing reconnection) or after ``queued_max_wait()``: waiting for capacity is not failure.
    """
    cutoff = now - stale_after
    running = SyncRun.objects.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=cutoff).update(
        status=SyncRun.Status.ABANDONED,
        finished_at=now,
        error="The worker running this sync stopped responding. The next run picks up where it left off.",
    )
    queued = SyncRun.objects.filter(status=SyncRun.Status.QUEUED)
    never_started = queued.filter(created_at__lt=now - queued_max_wait()).update(
        status=SyncRun.Status.ABANDONED, finished_at=now, error="This sync was never started by a worker."
    )
    stranded = [
        run.pk
        for run in queued.filter(created_at__lt=cutoff).select_related("organisation")
        if not can_run(run.organisation)
    ]
    unrunnable = SyncRun.objects.filter(pk__in=stranded, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.ABANDONED,
        finished_at=now,
        error="This sync could not start: a connection is missing or needs reconnecting.",
    )
    return running + never_started + unrunnable


def queued_max_wait() -> timedelta:
    hours = getattr(settings, "SYNC_QUEUED_MAX_WAIT_HOURS", None)
    return timedelta(hours=float(hours)) if hours else QUEUED_MAX_WAIT


def can_run(organisation: Organisation) -> bool:
    """Both connections present and usable: otherwise a queued run would wait forever."""
    usable = {c.provider for c in organisation.connections.all() if c.is_connected}
    return {Provider.PROCURIFY, Provider.QBO} <= usable


def next_run_at(schedule: SyncSchedule, now: datetime, time_zone: str) -> datetime:
    """The next due time: now + interval, or the next daily time in the organisation's zone."""
    if schedule.mode == SyncSchedule.Mode.DAILY and schedule.daily_time is not None:
        zone = zoneinfo.ZoneInfo(time_zone)
        local = now.astimezone(zone)
        days = schedule_days.parse(getattr(schedule, "weekdays", ""))
        day = local.date()
        if datetime.combine(day, schedule.daily_time, tzinfo=zone) <= local:
            day += timedelta(days=1)
        day = schedule_days.next_allowed(day, days)  # only on the chosen weekdays, if any
        return datetime.combine(day, schedule.daily_time, tzinfo=zone).astimezone(UTC)
    return now + timedelta(minutes=max(1, schedule.interval_minutes))


def dispatch_due(now: datetime, enqueue: Callable[[int], object]) -> list[int]:
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
        # the first sync waits for a person's "Start syncing" (connector/sync/start_gate.py)
        .filter(organisation__syncing_started_at__isnull=False)
        .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
        .order_by("next_run_at")
    )


def fail_before_start(run_id: int, error: str, now: datetime) -> None:
    """The run could not even start (e.g. no connection): record why, and free the organisation."""
    SyncRun.objects.active().filter(pk=run_id).update(
        status=SyncRun.Status.FAILED, error=error[:2000], finished_at=now
    )
