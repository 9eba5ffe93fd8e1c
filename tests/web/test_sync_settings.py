"""Sync settings: interval or daily schedule, enabled switch, create-missing-vendors; clear validation."""

from __future__ import annotations

from tenants.models import Organisation, SyncSchedule


def url(org) -> str:
    return f"/o/{org.public_id}/sync/settings/"


def test_it_refuses_an_interval_under_five_minutes(org_a, owner) -> None:
    response = owner.client.post(url(org_a), {"enabled": "on", "mode": "interval", "interval_minutes": "2"})
    assert response.status_code == 400
    assert "Sync at most every 5 minutes" in response.content.decode()
    assert not SyncSchedule.objects.filter(organisation=org_a).exists()


def test_it_requires_a_time_for_a_daily_schedule(org_a, owner) -> None:
    response = owner.client.post(url(org_a), {"enabled": "on", "mode": "daily", "interval_minutes": "60"})
    assert "Choose the time of day" in response.content.decode()


def test_it_saves_a_daily_schedule_in_the_organisations_zone(org_a, owner) -> None:
    data = {
        "enabled": "on",
        "mode": "daily",
        "interval_minutes": "60",
        "daily_time": "06:30",
        "create_missing_vendors": "on",
    }
    response = owner.client.post(url(org_a), data)
    assert response.status_code == 302
    schedule = SyncSchedule.objects.get(organisation=org_a)
    assert schedule.enabled and schedule.mode == "daily"
    local = schedule.next_run_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Vancouver"))
    assert (local.hour, local.minute) == (6, 30)
    assert Organisation.objects.get(pk=org_a.pk).create_missing_vendors is True
    assert "America/Vancouver" in owner.client.get(url(org_a)).content.decode()


def test_it_clears_the_next_run_when_disabled(org_a, owner) -> None:
    owner.client.post(url(org_a), {"mode": "interval", "interval_minutes": "15"})
    schedule = SyncSchedule.objects.get(organisation=org_a)
    assert not schedule.enabled and schedule.next_run_at is None and schedule.interval_minutes == 15


def test_it_forbids_viewers_to_change_settings(org_a, viewer) -> None:
    assert viewer.client.get(url(org_a)).status_code == 200
    assert viewer.client.post(url(org_a), {"mode": "interval", "interval_minutes": "15"}).status_code == 403
