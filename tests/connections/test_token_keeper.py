"""The daily keeper: refresh idle connections, warn once before a refresh token expires."""

from __future__ import annotations

from datetime import timedelta

from connections_helpers import Wired, connect_qbo
from django.utils import timezone

from connector import clients
from tenants.models import Connection
from tenants.tasks import keep_qbo_tokens_alive


def test_it_refreshes_a_connection_when_it_has_been_idle(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    Connection.objects.filter(pk=connection.pk).update(
        last_refresh_success=timezone.now() - timedelta(days=8)
    )
    before = wired.token_calls()
    assert keep_qbo_tokens_alive()["refreshed"] == 1
    assert wired.token_calls() == before + 1
    row = Connection.objects.get(pk=connection.pk)
    assert row.refresh_token != connection.refresh_token
    assert row.last_refresh_success > timezone.now() - timedelta(minutes=1)


def test_it_leaves_a_connection_alone_when_it_was_used_recently(org_a, owner, wired: Wired) -> None:
    connect_qbo(wired, owner.client, org_a)
    before = wired.token_calls()
    assert keep_qbo_tokens_alive() == {"refreshed": 0, "failed": 0, "warned": 0}
    assert wired.token_calls() == before


def test_it_warns_admins_once_when_the_refresh_token_expires_soon(
    org_a, owner, wired: Wired, mailoutbox
) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    Connection.objects.filter(pk=connection.pk).update(refresh_expires_at=clients.now() + timedelta(days=10))
    assert keep_qbo_tokens_alive()["warned"] == 1
    assert keep_qbo_tokens_alive()["warned"] == 0
    assert len(mailoutbox) == 1
    assert "expires soon" in mailoutbox[0].subject
    assert connection.refresh_token not in mailoutbox[0].body


def test_it_records_the_failure_and_continues_when_one_connection_is_revoked(
    org_a, owner, wired: Wired, mailoutbox
) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    Connection.objects.filter(pk=connection.pk).update(
        last_refresh_success=timezone.now() - timedelta(days=8)
    )
    wired.sb.qbo.revoke_tokens(connection.realm_id)
    assert keep_qbo_tokens_alive()["failed"] == 1
    assert Connection.objects.get(pk=connection.pk).needs_reauth
    assert len(mailoutbox) == 1
