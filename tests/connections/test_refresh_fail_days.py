"""The failing-days rule: transient refresh failures for QBO_REFRESH_FAIL_DAYS in a row mark the
connection as needing reconnection and e-mail its admins once (issue 4), judged by the sandbox clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from connections_helpers import Wired, connect_qbo

from connector.clients import use_transport
from connector.errors import ReauthRequired, Retryable
from connector.oauth import disconnect_qbo, ensure_fresh_qbo_token, keep_qbo_tokens_alive
from tenants.models import Connection, SyncSchedule


class IntuitDown:
    """Every token call answers 503, as during an Intuit outage; counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(503, json={"error": "temporarily_unavailable"})


@contextmanager
def intuit_down(wired: Wired) -> Iterator[IntuitDown]:
    down = IntuitDown()
    with use_transport(httpx.MockTransport(down), clock=wired.sb.clock.now):
        yield down


def fail_once(wired: Wired, connection: Connection, *, after_days: float = 0) -> Exception:
    wired.sb.clock.advance(days=after_days)
    with intuit_down(wired), pytest.raises((Retryable, ReauthRequired)) as caught:
        ensure_fresh_qbo_token(connection.pk, force=True)
    return caught.value


@pytest.fixture
def three_days(settings) -> None:
    settings.QBO_REFRESH_FAIL_DAYS = 3


def test_it_marks_reauth_and_emails_admins_once_when_refreshes_fail_for_n_days(
    org_a, owner, admin_member, viewer, wired: Wired, three_days, mailoutbox
) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    SyncSchedule.objects.create(organisation=org_a, enabled=True)
    for day in (0, 1, 1):
        assert isinstance(fail_once(wired, connection, after_days=day), Retryable)
        assert not Connection.objects.get(pk=connection.pk).needs_reauth
    assert mailoutbox == []

    error = fail_once(wired, connection, after_days=1)  # three days after the first failure
    assert isinstance(error, ReauthRequired) and error.code == "qbo_refresh_failing_days"
    row = Connection.objects.get(pk=connection.pk)
    assert row.needs_reauth and row.reauth_notified_at is not None
    assert "failed for 3 days in a row" in row.last_error and "Syncing is paused" in row.last_error
    assert SyncSchedule.objects.get(organisation=org_a).paused_reason
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == sorted([owner.user.email, admin_member.user.email])
    assert "failed for 3 days in a row" in mailoutbox[0].body

    # Later attempts neither call Intuit nor e-mail again.
    wired.sb.clock.advance(days=1)
    with intuit_down(wired) as down, pytest.raises(ReauthRequired):
        ensure_fresh_qbo_token(connection.pk, force=True)
    assert down.calls == 0 and len(mailoutbox) == 1


def test_it_keeps_retrying_when_the_streak_is_shorter_than_n_days(
    org_a, owner, wired: Wired, three_days, mailoutbox
) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    fail_once(wired, connection)
    error = fail_once(wired, connection, after_days=2.9)
    assert isinstance(error, Retryable)
    row = Connection.objects.get(pk=connection.pk)
    assert not row.needs_reauth and row.refresh_fail_count == 2
    assert row.first_refresh_failure_at == wired.sb.clock.now() - timedelta(days=2.9)
    assert mailoutbox == []


def test_it_starts_the_streak_again_when_a_refresh_succeeds_in_between(
    org_a, owner, wired: Wired, three_days, mailoutbox
) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    fail_once(wired, connection)
    wired.sb.clock.advance(days=2)
    assert ensure_fresh_qbo_token(connection.pk, force=True)  # Intuit is back
    row = Connection.objects.get(pk=connection.pk)
    assert row.first_refresh_failure_at is None and row.refresh_fail_count == 0
    fail_once(wired, connection, after_days=0.5)
    assert isinstance(fail_once(wired, connection, after_days=2), Retryable)  # 2 days into the new streak
    assert not Connection.objects.get(pk=connection.pk).needs_reauth
    assert mailoutbox == []


def test_it_follows_the_setting_when_it_is_one_day(org_a, owner, wired: Wired, settings, mailoutbox) -> None:
    settings.QBO_REFRESH_FAIL_DAYS = 1
    connection = connect_qbo(wired, owner.client, org_a)
    assert isinstance(fail_once(wired, connection), Retryable)
    assert isinstance(fail_once(wired, connection, after_days=1), ReauthRequired)
    assert len(mailoutbox) == 1


def test_it_trips_through_the_daily_token_keeper_when_intuit_stays_down(
    org_a, owner, wired: Wired, three_days, mailoutbox
) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    Connection.objects.filter(pk=connection.pk).update(last_refresh_success=None, connected_at=None)
    with intuit_down(wired) as down:
        for _ in range(4):
            assert keep_qbo_tokens_alive()["failed"] == 1
            wired.sb.clock.advance(days=1)
        assert keep_qbo_tokens_alive() == {"refreshed": 0, "failed": 0, "warned": 0}
    assert down.calls == 4
    assert Connection.objects.get(pk=connection.pk).needs_reauth
    assert len(mailoutbox) == 1


def test_it_forgets_the_streak_when_disconnected(org_a, owner, wired: Wired, three_days) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    fail_once(wired, connection)
    disconnect_qbo(Connection.objects.get(pk=connection.pk))
    row = Connection.objects.get(pk=connection.pk)
    assert row.first_refresh_failure_at is None and row.refresh_fail_count == 0
