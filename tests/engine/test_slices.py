"""A run works in bounded slices (issue 16): after its slice the bills step stops at a durable page,
the run succeeds saying it continues, and the next run carries on from the cursor, so a big backfill
never holds a worker. Every bill still reaches QuickBooks exactly once. Interactive work is routed to
its own queue ahead of scheduled runs."""

from __future__ import annotations

from collections import Counter

from django.core import mail
from sandbox_wiring import connect_procurify

from connector import routing
from connector.emails import notify_after_run
from connector.models import ExternalRecord, SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline
from tests.engine.test_keyset_poll import _small_page_harness


def test_a_run_in_slices_writes_every_bill_once(harness, org_a) -> None:
    connect_procurify(org_a, harness.sb)
    small = _small_page_harness(harness, harness.sb.transport(), page_size=4)
    sliced: list[SyncRun] = []
    for _ in range(100):  # the seed has a few dozen bills, four a page
        queued = runs.enqueue_run(org_a, SyncRun.Trigger.SCHEDULE)
        run = run_pipeline(
            queued.pk,
            procurify=small.procurify,
            qbo=small.qbo,
            clock=harness.sb.clock.now,
            slice_seconds=1e-9,  # every page is the end of a slice
        )
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        sliced.append(run)
        if not run.counts.get("continues"):
            break
        harness.sb.clock.advance(seconds=1)

    assert len(sliced) > 2 and not sliced[-1].counts.get("continues")
    assert all(r.counts.get("continues") for r in sliced[:-1])
    markers = Counter((b.get("PrivateNote") or "").split(" ")[0] for b in harness.bills())
    assert markers and max(markers.values()) == 1
    synced = ExternalRecord.objects.filter(organisation=org_a, object_type="bill", state="synced")
    assert {r.qbo_id for r in synced} == {b["Id"] for b in harness.bills()}
    for run in sliced:  # what the task does after each run: one "first sync" mail, after the last slice
        notify_after_run(run)
    first = [m for m in mail.outbox if "first sync" in m.subject.lower()]
    assert len(first) == 1
    assert not ExternalRecord.objects.filter(
        organisation=org_a, object_type="bill", state="creating"
    ).exists()


def test_sync_now_and_replays_go_to_the_interactive_queue(org_a) -> None:
    manual = runs.enqueue_run(org_a, SyncRun.Trigger.MANUAL)
    task = "connector.tasks.sync_organisation"
    assert routing.route_task(task, (manual.pk,), {}, {}) == {"queue": routing.INTERACTIVE}
    runs.fail_before_start(manual.pk, "test", manual.created_at)
    scheduled = runs.enqueue_run(org_a, SyncRun.Trigger.SCHEDULE)
    assert routing.route_task(task, (scheduled.pk,), {}, {}) is None  # the default queue
    replay = routing.route_task("connector.tasks.replay_record", (org_a.pk, "bill", "x"), {}, {})
    assert replay == {"queue": routing.INTERACTIVE}
    chosen = routing.route_task(task, (scheduled.pk,), {}, {"queue": routing.DEFAULT})
    assert chosen is None  # a continuation's own choice stands
