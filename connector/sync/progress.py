"""Real progress while a run works: "n of N, by step" on the dashboard's run card.

N is what Procurify said the step's listing holds (the first page's pagination ``count``); n is how
many rows of that listing the run has handled. The engine notes both in memory (``Context.progress``)
and they reach the run row at the heartbeats it already makes (``engine._beat``, every few seconds):
no extra writes per record. Once the run ends, the finished counts replace them.
"""

from __future__ import annotations

from typing import Any

from connector.models import SyncRun

STEP_TITLES = {
    "token_check": "Checking the connections",
    "reference": "Reading vendors and accounts",
    "vendors": "Vendors",
    "purchase_orders": "Purchase orders",
    "bills": "Bills",
    "attachments": "Invoice files",
    "payments": "Payments",
    "removals": "Checking for removed bills",
    "drift": "Checking QuickBooks for edits",
}


def listed(ctx: Any, step: str, page: Any, number: int, by_id: bool) -> None:
    """The listing's size, from its first page (later pages of a moving window count what is left)."""
    entry = ctx.progress.setdefault(step, {"done": 0, "total": None})
    count = getattr(page, "count", None)
    if entry["total"] is None and number == 1 and not by_id and isinstance(count, int):
        entry["total"] = count


def handled(ctx: Any, step: str) -> None:
    ctx.progress.setdefault(step, {"done": 0, "total": None})["done"] += 1


def save(ctx: Any) -> None:
    """Live counts on the running run's row (the finished run's counts overwrite them)."""
    if ctx.run is None:
        return
    live = {**ctx.totals(), "progress": ctx.progress}
    SyncRun.objects.filter(pk=ctx.run.pk, status=SyncRun.Status.RUNNING).update(counts=live)


def card(run: SyncRun | None) -> dict[str, Any] | None:
    """What the card shows: the current step's title and, when known, "n of N"."""
    if run is None:
        return None
    step = run.step or ""
    entry = ((run.counts or {}).get("progress") or {}).get(step) or {}
    total, done = entry.get("total"), entry.get("done", 0)
    if isinstance(total, int):
        done = min(done, total)  # a record edited mid-run may be listed twice; never "12 of 10"
    return {
        "title": STEP_TITLES.get(step, step.replace("_", " ").capitalize()),
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if isinstance(total, int) and total else None,
        "counts": run.counts or {},
    }
