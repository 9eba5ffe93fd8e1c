"""Thin Celery tasks: they take ids, call one function, and record the outcome."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from connector.models import WorkerHeartbeat


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Proves broker → worker → database works end to end; read by /healthz."""
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})
