"""A throttled run hands its worker slot back (issue 16): the Celery task re-queues the organisation with a
countdown instead of sleeping in the worker, and the next run carries on from the checkpoints."""

from __future__ import annotations

from sandbox_wiring import connect_procurify

from connector.models import ExternalRecord, SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline


def test_a_throttled_run_hands_its_worker_back_and_the_next_run_finishes(harness, org_a) -> None:
    connect_procurify(org_a, harness.sb)
    harness.sb.faults.throttle_next(4, target="qbo")  # the client's four attempts, then the run decides
    slept: list[float] = []
    queued = runs.enqueue_run(org_a, SyncRun.Trigger.SCHEDULE)

    run = run_pipeline(
        queued.pk,
        procurify=harness.procurify,
        qbo=harness.qbo,
        clock=harness.sb.clock.now,
        sleep=slept.append,
        defer_throttle=True,
    )

    assert slept == []  # no pause inside the worker
    assert run.status == SyncRun.Status.FAILED
    assert run.counts["deferred_seconds"] == 60.0
    assert "carries on automatically" in run.error
    assert not SyncRun.objects.filter(organisation=org_a, status__in=SyncRun.ACTIVE).exists()

    follow_up = harness.run(org_a)  # what the countdown task does a minute later
    assert follow_up.status == SyncRun.Status.SUCCEEDED, follow_up.error
    written = ExternalRecord.objects.filter(organisation=org_a, object_type="bill").exclude(qbo_id="")
    assert written.count() == len(harness.bills()) > 0  # each bill once in QuickBooks
