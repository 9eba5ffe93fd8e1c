"""Work a page hands to the worker, once the row that asks for it is committed: a run, a replay, the
first reference read. QuickBooks and Procurify are never called inside a web request."""

from __future__ import annotations

from django.db import transaction

from connector import tasks
from connector.models import SyncRun
from connector.sync import runs
from tenants.models import Organisation


def start_run(organisation: Organisation, trigger: str) -> SyncRun | None:
    """Queue a run (None if one is active) and hand it to the worker once the row is committed."""
    run = runs.enqueue_run(organisation, trigger)
    if run is not None:
        run_pk = run.pk
        transaction.on_commit(lambda: tasks.sync_organisation.delay(run_pk))
    return run


def queue_replay(organisation: Organisation, object_type: str, procurify_id: str) -> None:
    """The worker replays the record, once this commits; the outcome is in the record's timeline."""
    org_pk = organisation.pk
    transaction.on_commit(lambda: tasks.replay_record.delay(org_pk, object_type, procurify_id))


def queue_reference_read(organisation: Organisation) -> bool:
    """Read both sides' lists and propose mappings once the connection row is committed
    (connector/sync/first_mapping.py); False when a system is missing."""
    if not runs.can_run(organisation):
        return False
    org_pk = organisation.pk
    transaction.on_commit(lambda: tasks.read_reference.delay(org_pk))
    return True
