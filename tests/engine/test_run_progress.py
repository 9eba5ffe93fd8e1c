"""Issue 17, real progress: while a run works, its row carries "n of N" for the step, written at the
heartbeats the engine already makes; the dashboard's progress card shows it."""

from __future__ import annotations

from connector.models import SyncRun
from connector.sync import engine, progress


def test_the_running_row_carries_n_of_n_for_bills_at_each_heartbeat(harness, org_a, monkeypatch) -> None:
    monkeypatch.setattr(engine, "BEAT_SECONDS", 0.0)  # beat at every record, to see each step of it
    seen: list[tuple[str, dict]] = []
    save = progress.save

    def save_and_look(ctx) -> None:
        save(ctx)
        row = SyncRun.objects.get(pk=ctx.run.pk)  # what the dashboard's poll would read now
        seen.append((row.step, row.counts.get("progress", {})))

    monkeypatch.setattr(progress, "save", save_and_look)
    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    bills = [p["bills"] for step, p in seen if step == "bills" and "bills" in p]
    listed = len(harness.sb.procurify.site("northwind").bills)
    assert bills and {b["total"] for b in bills} == {listed}  # N: what Procurify's listing said
    dones = [b["done"] for b in bills]
    assert dones == sorted(dones) and dones[0] <= 1 and dones[-1] >= listed - 1  # n climbs to N
    assert "progress" not in run.counts  # the finished counts replace the live ones
