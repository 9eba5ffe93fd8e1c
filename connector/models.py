"""Sync engine state."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A single row a worker touches on a beat schedule; /healthz reads its age."""

    name = models.CharField(max_length=40, unique=True, default="worker")
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
