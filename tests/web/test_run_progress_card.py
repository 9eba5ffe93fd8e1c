"""Issue 17: the dashboard's run card shows "n of N, by step" while a run works, and says the same
"held" as the held card (one query for both)."""

from __future__ import annotations

import pytest
from web_support import held

from connector.models import SyncRun


@pytest.mark.parametrize(("done", "total", "shown"), [(3, 10, "3 of 10"), (12, 10, "10 of 10")])
def test_the_progress_card_shows_the_step_and_n_of_n(org_a, owner, done, total, shown) -> None:
    SyncRun.objects.create(
        organisation=org_a,
        status=SyncRun.Status.RUNNING,
        step="bills",
        counts={"created": 2, "progress": {"bills": {"done": done, "total": total}}},
    )
    page = owner.client.get(f"/o/{org_a.public_id}/sync/progress/").content.decode()
    assert 'id="progress-step">Bills<' in page and f'id="progress-count">{shown}<' in page
    assert 'hx-trigger="every 2s"' in page


def test_the_run_card_and_the_held_card_show_the_same_held_count(org_a, owner) -> None:
    SyncRun.objects.create(organisation=org_a, status=SyncRun.Status.SUCCEEDED, counts={"held": 5})
    held(org_a, "bill-1")
    held(org_a, "bill-2")
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert 'id="run-card-held">on hold 2<' in page
    assert '<span class="stat">2</span>' in page.split('id="held-heading"', 1)[1]
