from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from connector.models import WorkerHeartbeat
from connector.tasks import heartbeat


def test_it_reports_a_missing_worker_without_failing_the_web_check(db, client, settings) -> None:
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["database"]["ok"] is True
    assert body["worker"]["ok"] is False
    assert body["status"] == "degraded"


def test_it_reports_ok_after_a_worker_heartbeat(db, client) -> None:
    heartbeat.apply()  # runs the task body through Celery's machinery, in-process
    body = client.get("/healthz").json()
    assert body["worker"]["ok"] is True
    assert body["status"] == "ok"


def test_it_flags_a_stale_heartbeat(db, client, settings) -> None:
    WorkerHeartbeat.objects.create(name="worker", beat_at=timezone.now() - timedelta(hours=1))
    body = client.get("/healthz").json()
    assert body["worker"]["ok"] is False
    assert body["worker"]["age_seconds"] > 3000


def test_it_checks_redis_when_configured(db, client, settings) -> None:
    import os

    settings.REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert client.get("/healthz").json()["redis"]["ok"] is True
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False
