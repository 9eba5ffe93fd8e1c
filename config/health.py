"""/healthz: database, Redis and worker heartbeat, as JSON.

HTTP 503 only when the web process itself cannot serve (database or Redis down). A stale worker is
reported but does not fail the check: restarting web would not revive a dead worker.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from connector.models import WorkerHeartbeat


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "configured": False}
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        return {"ok": True, "configured": True}
    except Exception as exc:
        return {"ok": False, "configured": True, "error": type(exc).__name__}


def _worker() -> dict[str, Any]:
    beat = WorkerHeartbeat.objects.filter(name="worker").first()
    if beat is None:
        return {"ok": False, "last_heartbeat": None, "age_seconds": None}
    age = (timezone.now() - beat.beat_at).total_seconds()
    fresh = age <= settings.WORKER_HEARTBEAT_SECONDS * 3
    return {"ok": fresh, "last_heartbeat": beat.beat_at.isoformat(), "age_seconds": round(age, 1)}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    database = _database()
    checks = {"database": database, "redis": _redis()}
    checks["worker"] = _worker() if database["ok"] else {"ok": False, "error": "database unavailable"}
    serving = checks["database"]["ok"] and checks["redis"]["ok"]
    status = "ok" if serving and checks["worker"]["ok"] else ("degraded" if serving else "down")
    return JsonResponse({"status": status, **checks}, status=200 if serving else 503)
