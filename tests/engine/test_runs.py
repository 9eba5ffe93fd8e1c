from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from connector.models import SyncRun
from connector.sync import cursors, runs
from tenants.models import SyncSchedule

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def started(*organisations) -> None:
    """A person pressed "Start syncing" (connector/sync/start_gate.py): the schedule may dispatch."""
    for organisation in organisations:
        type(organisation).objects.filter(pk=organisation.pk).update(syncing_started_at=T0)


def test_it_starts_from_the_cursor_minus_overlap_when_there_is_one():
    assert cursors.read_start(T0, signpost=T0 + timedelta(hours=1)) == T0 - cursors.DEFAULT_OVERLAP


def test_it_starts_from_the_lookback_when_there_is_no_cursor():
    assert cursors.read_start(None, signpost=T0) == T0 - cursors.DEFAULT_LOOKBACK


def test_it_never_advances_the_cursor_past_the_signpost():
    assert cursors.advance(None, [T0 + timedelta(hours=2)], signpost=T0) == T0


def test_it_never_moves_the_cursor_backwards():
    assert cursors.advance(T0, [T0 - timedelta(days=1)], signpost=T0 + timedelta(hours=1)) == T0
    assert cursors.advance(T0, [], signpost=T0 + timedelta(hours=1)) == T0


def test_it_computes_the_next_daily_run_in_the_organisation_time_zone(org_a):
    schedule = SyncSchedule(organisation=org_a, mode=SyncSchedule.Mode.DAILY, daily_time=time(6, 0))
    # 12:00 UTC is 04:00 in Vancouver (PST, UTC-8): today at 06:00 local is 14:00 UTC.
    assert runs.next_run_at(schedule, T0, "America/Vancouver") == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert runs.next_run_at(schedule, T0 + timedelta(hours=3), "America/Vancouver") == datetime(
        2026, 3, 3, 14, 0, tzinfo=UTC
    )


def test_it_dispatches_due_schedules_once_and_sets_the_next_run(org_a, org_b):
    started(org_a, org_b)
    SyncSchedule.objects.create(organisation=org_a, enabled=True, interval_minutes=60, next_run_at=T0)
    SyncSchedule.objects.create(organisation=org_b, enabled=True, paused_reason="Paused by owner")
    queued: list[int] = []

    ids = runs.dispatch_due(T0, queued.append)

    assert ids == queued and len(ids) == 1
    assert SyncRun.objects.get(pk=ids[0]).organisation == org_a
    assert SyncSchedule.objects.get(organisation=org_a).next_run_at == T0 + timedelta(hours=1)
    assert runs.dispatch_due(T0 + timedelta(minutes=1), queued.append) == []


def test_it_pushes_a_failing_tenant_back_instead_of_crashing_the_dispatcher(org_a):
    started(org_a)
    SyncSchedule.objects.create(organisation=org_a, enabled=True, next_run_at=T0)

    def broken(run_id: int) -> None:
        raise RuntimeError("broker down")

    assert runs.dispatch_due(T0, broken) == []
    assert SyncSchedule.objects.get(organisation=org_a).next_run_at == T0 + runs.FAILURE_BACKOFF


def test_it_marks_a_run_with_a_stale_heartbeat_abandoned(org_a):
    run = runs.enqueue_run(org_a)
    runs.claim_run(run.pk, T0)

    assert runs.reap_abandoned(T0 + runs.STALE_AFTER + timedelta(seconds=1)) == 1
    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.ABANDONED
    assert runs.enqueue_run(org_a) is not None
