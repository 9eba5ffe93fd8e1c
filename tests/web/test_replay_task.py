"""Replay from the record page goes through a Celery task: the request only queues it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from web_support import event, run

from connector import tasks
from connector.clients import use_transport
from connector.models import AuditEvent, SyncRun
from tenants.models import Connection, Organisation, Provider

REDIRECT_URI = "http://testserver/connections/qbo/callback/"
QUEUED = "Replay queued — refresh in a few seconds"


def replay_url(org: Organisation, procurify_id: str, object_type: str = "bill") -> str:
    return f"/o/{org.public_id}/records/{object_type}/{procurify_id}/replay/"


@pytest.fixture
def sandbox(settings: Any, org_a: Organisation, owner: Any) -> Iterator[Any]:
    """Organisation A connected to both sandbox systems, the way the connection pages leave it."""
    from connector.oauth import complete_qbo_authorization
    from sandbox import Sandbox

    sb = Sandbox.create(seed="distributor")
    urls = sb.qbo_urls()
    settings.QBO_CLIENT_ID = sb.credentials["qbo"]["client_id"]
    settings.QBO_CLIENT_SECRET = sb.credentials["qbo"]["client_secret"]
    settings.QBO_REDIRECT_URI = REDIRECT_URI
    settings.QBO_AUTHORIZE_URL = urls["authorize_url"]
    settings.QBO_TOKEN_URL = urls["token_url"]
    settings.QBO_REVOKE_URL = urls["revoke_url"]
    settings.QBO_API_BASE = urls["api_base"]
    settings.PROCURIFY_TOKEN_URL = ""
    procurify = sb.credentials["procurify"]["northwind"]
    realm_id = sb.realm_ids[0]
    with use_transport(sb.transport(), clock=sb.clock.now):
        Connection.objects.create(
            organisation=org_a,
            provider=Provider.PROCURIFY,
            site_url=sb.procurify_site_url("northwind"),
            client_id=procurify["client_id"],
            client_secret=procurify["client_secret"],
        )
        redirect = sb.qbo.approve_for_tests(settings.QBO_CLIENT_ID, REDIRECT_URI, "s", realm_id)
        complete_qbo_authorization(org_a, owner.user, httpx.URL(redirect).params["code"], realm_id)
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
