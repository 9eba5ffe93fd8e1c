"""Replay from the record page goes through a Celery task: the request only queues it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_wiring import connect, point_settings_at
from web_support import event, run

from connector import tasks
from connector.clients import use_transport
from connector.models import AuditEvent, SyncRun
from sandbox import Sandbox
from tenants.models import Organisation

QUEUED = "Replay queued — refresh in a few seconds"


def replay_url(org: Organisation, procurify_id: str, object_type: str = "bill") -> str:
    return f"/o/{org.public_id}/records/{object_type}/{procurify_id}/replay/"


@pytest.fixture
def sandbox(settings: Any, org_a: Organisation, owner: Any) -> Iterator[Any]:
    """Organisation A connected to both sandbox systems, the way the connection pages leave it."""
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb)
    with use_transport(sb.transport(), clock=sb.clock.now):
        connect(org_a, owner.user, sb)
        yield sb


def a_bill_uuid(sb: Any) -> str:
    return str(next(iter(sb.procurify.site("northwind").bills)))


def test_it_queues_the_task_after_commit_and_says_so_when_pressed(
    org_a, owner, django_capture_on_commit_callbacks
) -> None:
    event(org_a, "b1", "read", "Read")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner.client.post(replay_url(org_a, "b1"), follow=True)
    assert QUEUED in response.content.decode()
    assert len(callbacks) == 1
    # Nothing ran in the request: no replay run, no QuickBooks call.
    assert not SyncRun.objects.filter(organisation=org_a).exists()


def test_it_replays_the_record_in_the_task_when_celery_runs_eagerly(
    org_a, owner, sandbox, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    uuid = a_bill_uuid(sandbox)
    event(org_a, uuid, "read", "Seen in an earlier run")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.client.post(replay_url(org_a, uuid), follow=True)
    assert QUEUED in response.content.decode()
    replay = SyncRun.objects.get(organisation=org_a, trigger=SyncRun.Trigger.REPLAY)
    assert replay.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED)
    assert AuditEvent.objects.filter(organisation=org_a, procurify_id=uuid, run=replay).exists()
    page = owner.client.get(f"/o/{org_a.public_id}/records/bill/{uuid}/").content.decode()
    assert page.count("Seen in an earlier run") == 1


def test_it_returns_failed_instead_of_raising_when_the_organisation_is_not_connected(org_a) -> None:
    assert tasks.replay_record(org_a.pk, "bill", "b1") == "failed"
    assert not SyncRun.objects.filter(organisation=org_a).exists()


def test_it_queues_nothing_when_a_sync_runs(org_a, owner, django_capture_on_commit_callbacks) -> None:
    event(org_a, "b1", "read", "Read")
    run(org_a, status=SyncRun.Status.RUNNING)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner.client.post(replay_url(org_a, "b1"), follow=True)
    assert "A sync is running" in response.content.decode()
    assert callbacks == []


def test_it_answers_404_and_queues_nothing_for_an_unknown_record(
    org_a, owner, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert owner.client.post(replay_url(org_a, "never-seen")).status_code == 404
        assert owner.client.post(replay_url(org_a, "b1", object_type="vendor")).status_code == 404
    assert callbacks == []


def test_it_answers_403_to_viewers_and_404_to_outsiders(
    org_a, org_b, viewer, outsider, django_capture_on_commit_callbacks
) -> None:
    event(org_a, "b1", "read", "Read")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert viewer.client.post(replay_url(org_a, "b1")).status_code == 403
        assert outsider.client.post(replay_url(org_a, "b1")).status_code == 404
        assert outsider.client.post(replay_url(org_b, "b1")).status_code == 404  # B has no such record
    assert callbacks == []
