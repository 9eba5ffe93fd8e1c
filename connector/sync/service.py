"""Running a sync: build the clients, run the pipeline, send what the run calls for.

The Celery task (connector/tasks.py) runs a run someone queued; ``manage.py sync_organisation``
queues and runs one in the foreground. Both come through ``run_sync`` here, with the client factory
their entry point built (connector/client_factory.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils import timezone

from connector.client_factory import ClientFactory, FixedClients
from connector.emails import notify_after_run
from connector.errors import ConnectorError
from connector.models import SyncRun
from connector.sync import runs
from connector.sync.engine import STEPS, run_pipeline
from tenants.models import Organisation


class AlreadyRunning(Exception):
    """The organisation has a run queued or running; only one runs at a time."""


def run_now(
    organisation: Organisation, trigger: str, clients: ClientFactory, *, steps: Iterable[str] = STEPS
) -> SyncRun:
    """Queue a run and run it in this process. Raises ConnectorError when a system is not connected
    and AlreadyRunning when another run is queued or running; nothing is queued in either case."""
    # Clients first: a missing connection must not leave a queued run blocking "Sync now".
    procurify, qbo = clients.procurify(organisation), clients.qbo(organisation)
    run = runs.enqueue_run(organisation, trigger)
    if run is None:
        raise AlreadyRunning(organisation)
    return run_sync(run.pk, FixedClients(procurify, qbo), steps=steps)


def run_sync(
    run_id: int,
    clients: ClientFactory,
    *,
    steps: Iterable[str] = STEPS,
    defer_throttle: bool = False,
    slice_seconds: float | None = None,
    then: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Run a queued run and notify. A failure is recorded on the run, never raised: clients that
    cannot be built fail the run before it starts. ``then`` sees the finished run before the
    notifications (the task queues a continuation there)."""
    run = SyncRun.objects.select_related("organisation").get(pk=run_id)
    try:
        procurify, qbo = clients.procurify(run.organisation), clients.qbo(run.organisation)
    except ConnectorError as exc:
        runs.fail_before_start(run_id, exc.message, timezone.now())
    else:
        run = run_pipeline(
            run_id,
            procurify=procurify,
            qbo=qbo,
            steps=steps,
            defer_throttle=defer_throttle,
            slice_seconds=slice_seconds,
        )
        if then is not None:
            then(run)
    notify_after_run(run)
    return run
