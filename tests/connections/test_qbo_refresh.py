"""The QuickBooks token lifecycle: refresh on expiry, rotation, single flight, reauth, cooldown."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from connections_helpers import CountingTransport, Wired, connect_qbo
from django.db import connection as db_connection

from connector import clients
from connector.clients import qbo_client_for, use_transport
from connector.errors import ReauthRequired, Retryable
from connector.oauth import ensure_fresh_qbo_token, qbo_token_provider
from connector.qbo import auth as qbo_auth
from tenants.models import Connection, SyncSchedule


def test_it_refreshes_when_the_access_token_has_expired(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    before = wired.token_calls()
    wired.sb.clock.advance(seconds=3601)
    info = qbo_client_for(org_a).company_info()
    assert info.CompanyName
    assert wired.token_calls() == before + 1
    fresh = Connection.objects.get(pk=connection.pk)
    assert fresh.access_token != connection.access_token
    assert fresh.last_refresh_success is not None


def test_it_persists_the_rotated_refresh_token_when_refreshing(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    old_refresh = connection.refresh_token
    ensure_fresh_qbo_token(connection.pk, force=True)
    stored = Connection.objects.get(pk=connection.pk).refresh_token
    assert stored != old_refresh
    # The sandbox killed the old one on rotation; the stored one keeps working.
    with clients.http_client() as http, pytest.raises(ReauthRequired):
        qbo_auth.refresh(http, clients.qbo_oauth_config(), old_refresh)
    ensure_fresh_qbo_token(connection.pk, force=True)


def test_it_does_not_refresh_when_the_token_is_still_fresh(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    before = wired.token_calls()
    assert ensure_fresh_qbo_token(connection.pk) == connection.access_token
    assert wired.token_calls() == before


def test_it_refreshes_once_and_retries_when_quickbooks_answers_401(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    wired.sb.qbo.expire_tokens(connection.realm_id)  # Intuit forgets the token early; our expiry says fresh
    before = wired.token_calls()
    assert qbo_client_for(org_a).company_info().CompanyName
    assert wired.token_calls() == before + 1


def test_it_uses_the_other_workers_token_when_the_row_was_already_refreshed(
    org_a, owner, wired: Wired
) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    provide = qbo_token_provider(connection.pk)
    handed_out = provide(False)
    rotated = ensure_fresh_qbo_token(connection.pk, force=True)  # "another worker" refreshed meanwhile
    before = wired.token_calls()
    # Our 401 was on the token we handed out; the row already holds a newer one, so no second refresh.
    assert provide(True) == rotated != handed_out
    assert wired.token_calls() == before


def test_it_refreshes_once_when_two_callers_find_it_expired_in_turn(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    wired.sb.clock.advance(seconds=3601)
    before = wired.token_calls()
    first = ensure_fresh_qbo_token(connection.pk)
    second = ensure_fresh_qbo_token(connection.pk)
    assert first == second
    assert wired.token_calls() == before + 1


class SlowTokens(CountingTransport):
    """Holds token responses for a moment so the second thread surely queues on the row lock."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tokens/bearer"):
            time.sleep(0.3)
        return super().handle_request(request)


@pytest.mark.django_db(transaction=True)
def test_it_refreshes_once_when_two_threads_race(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    wired.sb.clock.advance(seconds=3601)
    slow = SlowTokens(wired.sb.transport())
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(ensure_fresh_qbo_token(connection.pk))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            db_connection.close()

    with use_transport(slow, clock=wired.sb.clock.now):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors
    assert len(results) == 2 and results[0] == results[1]
    assert slow.count("/tokens/bearer") == 1
    ensure_fresh_qbo_token(connection.pk, force=True)  # the stored refresh token is the live one


def test_it_marks_reauth_and_emails_once_when_intuit_says_invalid_grant(
    org_a, owner, admin_member, viewer, wired: Wired, mailoutbox
) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    SyncSchedule.objects.create(organisation=org_a, enabled=True)
    wired.sb.qbo.revoke_tokens(connection.realm_id)  # someone pressed Disconnect inside QuickBooks
    wired.sb.clock.advance(seconds=3601)
    before = wired.token_calls()
    for _ in range(3):
        with pytest.raises(ReauthRequired):
            ensure_fresh_qbo_token(connection.pk)
    assert wired.token_calls() == before + 1  # later attempts do not hammer Intuit
    row = Connection.objects.get(pk=connection.pk)
    assert row.needs_reauth and row.reauth_notified_at is not None
    assert "Syncing is paused" in row.last_error
    assert SyncSchedule.objects.get(organisation=org_a).paused_reason
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == sorted([owner.user.email, admin_member.user.email])
    bodies = mail.body + "".join(str(alt[0]) for alt in mail.alternatives)
    for secret in (
        connection.refresh_token,
        connection.access_token,
        wired.sb.credentials["qbo"]["client_secret"],
    ):
        assert secret not in bodies
    page = owner.client.get(f"/o/{org_a.public_id}/connections/").content.decode()
    assert "Reconnect" in page and "needs reconnecting" in page


def test_it_clears_the_reauth_flag_and_pause_when_reconnected(org_a, owner, wired: Wired, mailoutbox) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    SyncSchedule.objects.create(organisation=org_a, enabled=True)
    wired.sb.qbo.revoke_tokens(connection.realm_id)
    with pytest.raises(ReauthRequired):
        ensure_fresh_qbo_token(connection.pk, force=True)
    row = connect_qbo(wired, owner.client, org_a)
    assert not row.needs_reauth and row.reauth_notified_at is None and row.last_error == ""
    assert SyncSchedule.objects.get(organisation=org_a).paused_reason == ""
    assert ensure_fresh_qbo_token(row.pk, force=True)


def test_it_backs_off_when_a_refresh_fails_transiently(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    calls: list[str] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503, json={"error": "temporarily_unavailable"})

    with use_transport(httpx.MockTransport(down), clock=wired.sb.clock.now):
        with pytest.raises(Retryable):
            ensure_fresh_qbo_token(connection.pk, force=True)
        with pytest.raises(Retryable) as second:
            ensure_fresh_qbo_token(connection.pk, force=True)
    assert second.value.code == "qbo_refresh_cooldown"
    assert len(calls) == 1
    row = Connection.objects.get(pk=connection.pk)
    assert row.refresh_fail_count == 1 and row.last_refresh_failure is not None
    assert not row.needs_reauth
    assert "Refreshing the QuickBooks sign-in failed" in row.last_error
