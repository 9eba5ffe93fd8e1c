"""Metered QuickBooks reads, visible and near zero (issue 16): an unchanged scheduled poll makes no metered
call (the sandbox's own count of successful reads, queries and batches says so); QuickBooks' lists are read
again when something new needs them, when a person asks, and daily; every metered call is counted per
organisation and month, shown on the usage page, and mailed at 70% and 90% of the budget."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.urls import reverse
from sandbox_wiring import connect_procurify

from connector import metering
from connector.models import MeteredUsage, SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline
from tests.engine.conftest import DOMAIN


def _scheduled(harness, organisation) -> SyncRun:
    queued = runs.enqueue_run(organisation, SyncRun.Trigger.SCHEDULE)
    assert queued is not None
    return run_pipeline(queued.pk, procurify=harness.procurify, qbo=harness.qbo, clock=harness.sb.clock.now)


def _metered(harness) -> int:
    return int(harness.sb.qbo.stats(harness.realm_id)["metered"])


def _first_sync(harness, organisation) -> None:
    connect_procurify(organisation, harness.sb)
    harness.qbo.on_metered = metering.meter_for(organisation.pk)
    first = _scheduled(harness, organisation)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    assert _metered(harness) > 0  # the first sync reads QuickBooks' settings and lists
    harness.sb.clock.advance(minutes=1)


def test_an_unchanged_poll_makes_no_metered_call(harness, org_a) -> None:
    _first_sync(harness, org_a)
    before, reads_before = _metered(harness), harness.sb.qbo.stats(harness.realm_id)["reads"]

    again = _scheduled(harness, org_a)

    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert _metered(harness) == before
    assert harness.sb.qbo.stats(harness.realm_id)["reads"] == reads_before
    assert harness.sb.procurify.stats(DOMAIN)["reads"] > 0  # Procurify was still polled


def test_a_new_procurify_vendor_reads_quickbooks_lists_again(harness, org_a) -> None:
    _first_sync(harness, org_a)
    before = harness.sb.qbo.stats(harness.realm_id)["by_endpoint"].get("read:query Vendor", 0)
    harness.sb.procurify.add_vendor(DOMAIN, "Brand New Supplies Ltd")

    run = _scheduled(harness, org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert harness.sb.qbo.stats(harness.realm_id)["by_endpoint"]["read:query Vendor"] > before


def test_a_person_asking_and_the_daily_schedule_read_quickbooks_lists_again(harness, org_a) -> None:
    _first_sync(harness, org_a)
    before = _metered(harness)
    assert harness.run(org_a).status == SyncRun.Status.SUCCEEDED  # "Sync now"
    after_asked = _metered(harness)
    assert after_asked > before

    harness.sb.clock.advance(hours=23)
    _scheduled(harness, org_a)
    assert _metered(harness) == after_asked  # within the day: the copies do
    harness.sb.clock.advance(timedelta(hours=1, minutes=1).total_seconds())
    _scheduled(harness, org_a)
    assert _metered(harness) > after_asked


def test_every_metered_call_is_counted_for_the_organisation(harness, org_a) -> None:
    _first_sync(harness, org_a)
    harness.run(org_a)

    usage = MeteredUsage.objects.get(organisation=org_a)
    assert usage.calls == _metered(harness)
    assert usage.queries > 0 and usage.reads > 0


def test_the_owners_are_mailed_at_70_and_90_percent_once_each(harness, org_a, settings) -> None:
    settings.QBO_METERED_MONTHLY_BUDGET = 10
    _first_sync(harness, org_a)
    harness.run(org_a)

    subjects = [m.subject for m in mail.outbox if "read budget" in m.subject]
    assert len(subjects) == 2
    assert "70%" in subjects[0] and "90%" in subjects[1]
    assert all("alice@northwind.example" in m.to for m in mail.outbox if "read budget" in m.subject)
    assert MeteredUsage.objects.get(organisation=org_a).alerted_percent == 90


def test_the_usage_page_shows_this_months_calls(harness, org_a, owner, viewer, outsider) -> None:
    _first_sync(harness, org_a)
    usage = MeteredUsage.objects.get(organisation=org_a)
    url = reverse("connector-usage", args=[org_a.public_id])

    page = owner.client.get(url)

    assert page.status_code == 200
    assert f"<strong>{usage.calls}</strong> metered calls" in page.content.decode()
    assert viewer.client.get(url).status_code == 200
    assert outsider.client.get(url).status_code == 404
