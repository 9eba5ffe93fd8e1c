"""Issue 12 (abuse): per-organisation limits on Sync now, Replay and Test connection, with a plain message."""

from __future__ import annotations

from django.utils import timezone

from connector.models import SyncRun
from tenants import limits


def test_sync_now_says_plainly_when_the_limit_is_reached_and_queues_nothing_more(org_a, owner) -> None:
    type(org_a).objects.filter(pk=org_a.pk).update(
        syncing_started_at=timezone.now()
    )  # "Start syncing" pressed
    url = f"/o/{org_a.public_id}/sync/now/"
    for _ in range(limits.SYNC_NOW.times):
        owner.client.post(url)
        SyncRun.objects.filter(organisation=org_a).update(status=SyncRun.Status.SUCCEEDED)
    runs_before = SyncRun.objects.filter(organisation=org_a).count()

    page = owner.client.post(url, follow=True).content.decode()

    assert "“Sync now” was used 6 times in the last 10 minutes" in page
    assert SyncRun.objects.filter(organisation=org_a).count() == runs_before


def test_one_organisations_limit_does_not_touch_another(org_a, org_b) -> None:
    for _ in range(limits.TEST_CONNECTION.times):
        assert limits.allow(org_a, limits.TEST_CONNECTION) is None
    assert limits.allow(org_a, limits.TEST_CONNECTION) is not None
    assert limits.allow(org_b, limits.TEST_CONNECTION) is None


def test_the_qbo_test_button_is_limited_before_any_call_to_quickbooks(org_a, owner) -> None:
    from tenants.models import Connection, Provider

    Connection.objects.create(organisation=org_a, provider=Provider.QBO, realm_id="123")
    for _ in range(limits.TEST_CONNECTION.times):
        limits.allow(org_a, limits.TEST_CONNECTION)

    page = owner.client.post(f"/o/{org_a.public_id}/connections/qbo/test/", follow=True).content.decode()

    assert "“Test connection” was used 10 times" in page
