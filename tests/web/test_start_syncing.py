"""Issue 17: the first sync waits for a person who has seen the preview and pressed "Start syncing"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from connector.models import AuditEvent, SyncRun
from connector.sync import preview as previews
from connector.sync import runs
from connector.sync.preview import Preview, PreviewItem
from tenants.models import Connection, Organisation, Provider, SyncSchedule

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def connect_both(org: Organisation) -> None:
    Connection.objects.create(
        organisation=org,
        provider=Provider.PROCURIFY,
        site_url="https://x.procurify.com",
        client_id="id",
        client_secret="secret",
    )
    Connection.objects.create(organisation=org, provider=Provider.QBO, realm_id="123", refresh_token="rt")


def item(
    vendor: str, amount: str, action: str = "create", reason: str = "", currency: str = "USD"
) -> PreviewItem:
    return PreviewItem(
        kind="bill",
        procurify_id=f"{vendor}-{amount}",
        document=f"INV-{amount}",
        vendor=vendor,
        amount=Decimal(amount),
        currency=currency,
        action=action,
        reason=reason,
    )


def previewed(org: Organisation, *items: PreviewItem) -> None:
    previews.store(org, previews.DONE, Preview(items=list(items)))


def test_the_schedule_dispatches_nothing_until_syncing_started(org_a, owner) -> None:
    connect_both(org_a)
    SyncSchedule.objects.create(organisation=org_a, enabled=True, interval_minutes=60, next_run_at=T0)
    assert runs.dispatch_due(T0, lambda _id: None) == []
    assert not SyncRun.objects.filter(organisation=org_a).exists()

    Organisation.objects.filter(pk=org_a.pk).update(syncing_started_at=T0)
    assert len(runs.dispatch_due(T0 + timedelta(minutes=1), lambda _id: None)) == 1


def test_sync_now_queues_nothing_before_syncing_started_and_says_why(org_a, owner) -> None:
    connect_both(org_a)
    page = owner.client.post(f"/o/{org_a.public_id}/sync/now/", follow=True).content.decode()
    assert "must preview the first sync and press “Start syncing”" in page
    assert not SyncRun.objects.filter(organisation=org_a).exists()


def test_the_dashboard_says_plainly_why_nothing_syncs_yet(org_a, owner) -> None:
    connect_both(org_a)
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert 'id="sync-waiting"' in page and "Nothing is written to QuickBooks yet" in page
    assert 'disabled aria-disabled="true" aria-describedby="sync-blocked">Sync now' in page


def test_start_syncing_is_refused_without_a_completed_preview(org_a, owner) -> None:
    connect_both(org_a)
    page = owner.client.post(f"/o/{org_a.public_id}/sync/start/", follow=True).content.decode()
    assert "Preview the first sync first" in page
    org_a.refresh_from_db()
    assert org_a.syncing_started_at is None
    assert not SyncRun.objects.filter(organisation=org_a).exists()


def test_the_preview_sums_by_vendor_and_holds_and_start_syncing_records_who_and_queues_the_first_run(
    org_a, owner, django_capture_on_commit_callbacks
) -> None:
    connect_both(org_a)
    previewed(
        org_a,
        item("Delta Freight", "1200.10"),
        item("Delta Freight", "34.45"),
        item("Acme Tools", "99.99", action="hold", reason="Vendor Acme Tools is not mapped."),
    )
    page = owner.client.get(f"/o/{org_a.public_id}/sync/preview/").content.decode()
    assert '<th scope="row">Delta Freight</th><td>2</td><td>1,234.55 USD</td><td>0</td>' in page
    assert "1 document, 99.99 USD: Vendor Acme Tools is not mapped." in page
    assert ">Start syncing</button>" in page
    dashboard = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert ">Start syncing</button>" in dashboard

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = owner.client.post(f"/o/{org_a.public_id}/sync/start/", follow=True).content.decode()
    assert "The first sync is queued" in done and len(callbacks) == 1
    org_a.refresh_from_db()
    assert org_a.syncing_started_by == owner.user and org_a.syncing_started_at is not None
    assert "Syncing started by alice@northwind.example on" in done
    assert SyncRun.objects.filter(organisation=org_a, status="queued", trigger="manual").count() == 1
    event = AuditEvent.objects.get(organisation=org_a, data__action="start_syncing")
    assert event.data["by"] == "alice@northwind.example"
    page = owner.client.get(f"/o/{org_a.public_id}/activity/").content.decode()
    assert "Started syncing to QuickBooks" in page


def test_a_preview_that_would_stop_cannot_start_syncing(org_a, owner) -> None:
    connect_both(org_a)
    previews.store(org_a, previews.DONE, Preview(items=[], error="QuickBooks refused the token."))
    owner.client.post(f"/o/{org_a.public_id}/sync/start/")
    org_a.refresh_from_db()
    assert org_a.syncing_started_at is None


def test_viewers_cannot_start_syncing(org_a, viewer) -> None:
    connect_both(org_a)
    previewed(org_a, item("Delta Freight", "10.00"))
    assert viewer.client.post(f"/o/{org_a.public_id}/sync/start/").status_code == 403
    org_a.refresh_from_db()
    assert org_a.syncing_started_at is None


def test_organisations_that_synced_before_count_as_started(org_a, org_b) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    SyncRun.objects.create(
        organisation=org_a, status=SyncRun.Status.FAILED, started_at=T0
    )  # it wrote, then failed
    SyncRun.objects.create(organisation=org_b, status=SyncRun.Status.QUEUED)  # never began: not started
    executor = MigrationExecutor(connection)
    apps = executor.loader.project_state([("tenants", "0007_organisation_syncing_started")]).apps
    from importlib import import_module

    migration = import_module("tenants.migrations.0007_organisation_syncing_started")
    migration.count_earlier_syncs_as_started(apps, None)
    org_a.refresh_from_db()
    org_b.refresh_from_db()
    assert org_a.syncing_started_at == T0 and org_a.syncing_started_by is None
    assert org_b.syncing_started_at is None
