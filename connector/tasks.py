"""Thin Celery tasks: they take ids, call one function, and record the outcome (style.md item 11)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from connector.clients import CLIENTS
from connector.errors import ConnectorError
from connector.models import SyncRun, WorkerHeartbeat
from connector.routing import DEFAULT as DEFAULT_QUEUE
from connector.sync import engine, first_mapping, preview, runs, service
from tenants.models import Organisation

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Proves broker → worker → database works end to end; read by /healthz."""
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})


@shared_task(ignore_result=True)
def dispatch_due_syncs() -> list[int]:
    """Beat, every minute: queue a run for every organisation whose schedule is due."""
    return runs.dispatch_due(timezone.now(), lambda run_id: sync_organisation.delay(run_id))


@shared_task(ignore_result=True)
def sync_organisation(run_id: int) -> str:
    """Claim the run and run the pipeline; a failure is recorded on the run, never re-raised."""
    # A throttled run gives its worker back and continues under a new run after the pause.
    # (Run inline, as in the demo's eager mode, a countdown is not honoured: pause in place.)
    eager = bool(sync_organisation.app.conf.task_always_eager)
    slice_seconds = None if eager else float(settings.SYNC_SLICE_SECONDS)
    run = service.run_sync(
        run_id, CLIENTS, defer_throttle=not eager, slice_seconds=slice_seconds, then=_continue_later
    )
    return run.status


def _continue_later(run: SyncRun) -> None:
    """A run that stopped at its slice or on a throttle continues as a new run (the state machine is
    unchanged: queued → running → finished). Continuations are scheduled work, on the default queue,
    behind anything a person is waiting for; they skip the QuickBooks list refresh a person's "Sync
    now" asked for once already."""
    counts = run.counts or {}
    wait = float(counts.get("deferred_seconds") or 0.0)
    if not (wait or counts.get("continues")):
        return
    follow_up = runs.enqueue_run(run.organisation, SyncRun.Trigger.SCHEDULE)
    if follow_up is not None:
        sync_organisation.apply_async((follow_up.pk,), countdown=wait, queue=DEFAULT_QUEUE)


@shared_task(ignore_result=True)
def replay_record(organisation_id: int, object_type: str, procurify_id: str) -> str:
    """The record page's Replay: one record through the pipeline again, under its own run.

    Named like the engine function it calls; the outcome (or "busy") is in the record's timeline.
    """
    try:
        return engine.replay_record(organisation_id, object_type, procurify_id, clients=CLIENTS)
    except ConnectorError as exc:  # not connected, or QuickBooks needs reconnecting: no run to record on
        log.warning(
            "replay of %s %s for organisation %s refused: %s",
            object_type,
            procurify_id,
            organisation_id,
            exc.code,
        )
        return "failed"


@shared_task(ignore_result=True)
def reap_abandoned_runs() -> int:
    """Runs whose worker stopped beating become abandoned, freeing their organisation."""
    return runs.reap_abandoned(timezone.now())


@shared_task(ignore_result=True)
def preview_sync(organisation_id: int) -> str:
    """The dashboard's "Preview next sync": the whole pipeline with nothing written (see
    connector/sync/preview.py); the result waits in the cache for the preview page."""
    return preview.run_and_store(Organisation.objects.get(pk=organisation_id), CLIENTS)


@shared_task(ignore_result=True)
def read_reference(organisation_id: int) -> str:
    """On connecting the second system: read both sides' vendors and accounts and propose mappings
    before any sync (connector/sync/first_mapping.py)."""
    return first_mapping.read_reference(Organisation.objects.get(pk=organisation_id), CLIENTS)
