"""The dashboard: checklist states, health, held count, Sync now (one run at a time) and progress."""

from __future__ import annotations

from django.utils import timezone
from web_support import held, run, vendor_mapping

from connector.models import SyncRun
from tenants.models import Connection, Provider, SyncSchedule


def checklist(client, org) -> dict[str, bool]:
    response = client.get(f"/o/{org.public_id}/")
    return {step["label"]: step["done"] for step in response.context["checklist"]}


def test_it_shows_everything_to_do_for_a_new_organisation(org_a, owner) -> None:
    steps = checklist(owner.client, org_a)
    assert not any(steps.values())
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert "Next" in page and "No held records" in page and "No sync has run yet." in page


def test_it_ticks_off_each_step_as_it_is_done(org_a, owner) -> None:
    Connection.objects.create(
        organisation=org_a,
        provider=Provider.PROCURIFY,
        site_url="https://n.procurify.com",
        client_id="id",
        client_secret="s3cret",
    )
    Connection.objects.create(organisation=org_a, provider=Provider.QBO, realm_id="123", refresh_token="r")
    vendor_mapping(org_a, 1, "Acme Ltd", qbo_vendor_id="56", qbo_vendor_name="Acme Limited")
    SyncSchedule.objects.create(organisation=org_a, enabled=True)
    run(org_a)
    assert all(checklist(owner.client, org_a).values())


def test_it_keeps_mappings_to_do_while_one_is_unmapped(org_a, owner) -> None:
    vendor_mapping(org_a, 1, "Acme Ltd", qbo_vendor_id="56")
    vendor_mapping(org_a, 2, "Bolt Co")
    assert checklist(owner.client, org_a)["Review vendor and account mappings"] is False


def test_it_shows_reconnect_when_a_connection_needs_it(org_a, owner) -> None:
    Connection.objects.create(
        organisation=org_a,
        provider=Provider.QBO,
        realm_id="1",
        refresh_token="rt-very-secret",
        needs_reauth=True,
        last_error="QuickBooks refused the saved authorisation.",
    )
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert "needs reconnecting" in page and "Reconnect" in page and "refused the saved authorisation" in page
    assert "rt-very-secret" not in page


def test_it_counts_held_records_with_a_link(org_a, owner) -> None:
    held(org_a, "b1"), held(org_a, "b2")
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert f"/o/{org_a.public_id}/held/" in page and "See what to fix" in page


def test_it_queues_one_run_and_refuses_a_second_while_active(
    org_a, owner, django_capture_on_commit_callbacks
) -> None:
    type(org_a).objects.filter(pk=org_a.pk).update(
        syncing_started_at=timezone.now()
    )  # "Start syncing" pressed
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = owner.client.post(f"/o/{org_a.public_id}/sync/now/", follow=True)
    assert len(callbacks) == 1  # the task is handed the run once the row is committed
    assert "Sync queued" in first.content.decode()
    assert SyncRun.objects.filter(organisation=org_a, status="queued", trigger="manual").count() == 1
    second = owner.client.post(f"/o/{org_a.public_id}/sync/now/", follow=True)
    assert "already queued or running" in second.content.decode()
    assert SyncRun.objects.filter(organisation=org_a).count() == 1


def test_it_forbids_viewers_to_sync_now(org_a, viewer) -> None:
    assert viewer.client.post(f"/o/{org_a.public_id}/sync/now/").status_code == 403
    assert not SyncRun.objects.filter(organisation=org_a).exists()


def test_it_polls_progress_only_while_a_run_is_active(org_a, owner) -> None:
    active = run(org_a, status=SyncRun.Status.RUNNING, step="bills")
    polling = owner.client.get(f"/o/{org_a.public_id}/sync/progress/").content.decode()
    assert 'hx-trigger="every 2s"' in polling and "Bills" in polling and 'aria-live="polite"' in polling
    SyncRun.objects.filter(pk=active.pk).update(status=SyncRun.Status.SUCCEEDED, counts={"created": 3})
    done = owner.client.get(f"/o/{org_a.public_id}/sync/progress/").content.decode()
    assert "hx-trigger" not in done and "Created 3" in done


def test_it_reloads_the_dashboard_when_the_polled_run_ends(org_a, owner) -> None:
    running = run(org_a, status=SyncRun.Status.RUNNING)
    url = f"/o/{org_a.public_id}/sync/progress/"
    assert "HX-Refresh" not in owner.client.get(url, headers={"HX-Request": "true"})
    SyncRun.objects.filter(pk=running.pk).update(status=SyncRun.Status.SUCCEEDED)
    assert owner.client.get(url, headers={"HX-Request": "true"})["HX-Refresh"] == "true"
