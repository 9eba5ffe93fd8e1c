"""Per-organisation limits on actions that cost the organisation's API quota or another system's time.

A person pressing "Test connection", "Sync now" or "Replay" in a loop must not spend an organisation's
QuickBooks calls or hammer Procurify. Counters live in the cache (Redis in every real deployment), one
window per organisation and action; reaching a limit gives a plain sentence, never an error page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from tenants.models import Organisation


@dataclass(frozen=True)
class Limit:
    key: str
    action: str  # what a person sees: "Test connection"
    times: int
    minutes: int


TEST_CONNECTION = Limit("test-connection", "Test connection", 10, 10)
SYNC_NOW = Limit("sync-now", "Sync now", 6, 10)
REPLAY = Limit("replay", "Replay", 30, 10)


def allow(organisation: Organisation, limit: Limit) -> str | None:
    """Count one use; None while within the limit, else the sentence to show."""
    key = f"limit:{organisation.pk}:{limit.key}"
    # add() starts the window only if none is open; incr() counts inside it (atomic in Redis).
    cache.add(key, 0, timeout=limit.minutes * 60)
    try:
        used = cache.incr(key)
    except ValueError:  # the window closed between add() and incr(): this use opens a new one
        cache.set(key, 1, timeout=limit.minutes * 60)
        used = 1
    if used <= limit.times:
        return None
    return (
        f"“{limit.action}” was used {limit.times} times in the last {limit.minutes} minutes for this "
        f"organisation. Please wait a few minutes and try again."
    )
