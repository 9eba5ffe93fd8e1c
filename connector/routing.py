"""Which Celery queue a task goes to: work a person waits for ahead of scheduled backfills.

"Sync now", replays and previews go to ``interactive``; scheduled runs and the slices that continue a
long run go to the default queue. Workers take both (``-Q interactive,celery``) and at least one
worker slot takes only ``interactive`` (docker-compose.yml), so a person never waits behind a tenant's
100,000-bill backfill. Wired as CELERY_TASK_ROUTES in config/settings.py.
"""

from __future__ import annotations

from typing import Any

from connector.models import SyncRun

INTERACTIVE = "interactive"
DEFAULT = "celery"
ALWAYS_INTERACTIVE = frozenset({"connector.tasks.replay_record", "connector.tasks.preview_sync"})


def route_task(name: str, args: Any, kwargs: Any, options: dict[str, Any], task: Any = None, **_: Any) -> Any:
    if options.get("queue"):  # a caller that chose a queue (slices continue on the default one)
        return None
    if name in ALWAYS_INTERACTIVE:
        return {"queue": INTERACTIVE}
    if name == "connector.tasks.sync_organisation" and args:
        trigger = SyncRun.objects.filter(pk=args[0]).values_list("trigger", flat=True).first()
        if trigger in (SyncRun.Trigger.MANUAL, SyncRun.Trigger.REPLAY):
            return {"queue": INTERACTIVE}
    return None
