"""The preview on the dashboard and in the onboarding checklist: owners and admins run it, viewers read
the page; the list shows amounts with their currency and the totals per action."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from connector.models import AuditEvent, ExternalRecord
from connector.when import format_when
from sandbox import Sandbox

pytestmark = pytest.mark.django_db(transaction=True)
STEP = "Preview what the first sync will write"


def _checklist(client, org) -> dict[str, bool]:
    return {s["label"]: s["done"] for s in client.get(f"/o/{org.public_id}/").context["checklist"]}


def test_an_owner_previews_before_the_first_write(org_a, owner, wired, sb: Sandbox, settings) -> None:
    assert _checklist(owner.client, org_a)[STEP] is False
    dashboard = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert "Preview next sync" in dashboard and f"/o/{org_a.public_id}/sync/preview/" in dashboard

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the worker's task, inline
    posted = owner.client.post(f"/o/{org_a.public_id}/sync/preview/")
    assert posted.status_code == 302
    response = owner.client.get(posted["Location"])

    assert response.status_code == 200
    preview = response.context["preview"]
    page = response.content.decode()
    first = next(i for i in preview.items if i.action == "create" and i.kind == "bill")
    assert f"{first.amount:,.2f} {first.currency}" in page and "Would create" in page and "Would hold" in page
    held = next(i for i in preview.items if i.action == "hold")
    assert escape(held.reason) in page
    # When, in the one date-time format with the organisation's zone (not an ISO stamp).
    at = format_when(response.context["state"]["at_time"], org_a.time_zone)
    assert f"Previewed {at}." in page and at.endswith(("PST", "PDT"))
    assert not ExternalRecord.objects.filter(organisation=org_a).exists()
    assert (
        not AuditEvent.objects.filter(organisation=org_a).exclude(object_type__in=["", "connection"]).exists()
    )
    assert _checklist(owner.client, org_a)[STEP] is True


def test_a_viewer_reads_the_page_but_cannot_run_it(org_a, viewer, wired) -> None:
    page = viewer.client.get(f"/o/{org_a.public_id}/sync/preview/")
    assert page.status_code == 200 and "<button" not in page.content.decode().split("<main", 1)[1]
    assert viewer.client.post(f"/o/{org_a.public_id}/sync/preview/").status_code == 403


def test_the_page_shows_progress_until_the_worker_has_finished(org_a, owner, wired, settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkey = pytest.MonkeyPatch()
    monkey.setattr("connector.tasks.preview_sync.delay", lambda org_pk: queued.append(org_pk))
    try:
        owner.client.post(f"/o/{org_a.public_id}/sync/preview/")
    finally:
        monkey.undo()
    assert queued == [org_a.pk]
    polled = owner.client.get(f"/o/{org_a.public_id}/sync/preview/", HTTP_HX_REQUEST="true")
    assert "Previewing" in polled.content.decode() and 'hx-trigger="every 2s"' in polled.content.decode()
    assert "HX-Refresh" not in polled

    from connector.tasks import preview_sync

    assert preview_sync(org_a.pk) == "done"
    finished = owner.client.get(f"/o/{org_a.public_id}/sync/preview/", HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"
    assert "Would create" in owner.client.get(f"/o/{org_a.public_id}/sync/preview/").content.decode()
