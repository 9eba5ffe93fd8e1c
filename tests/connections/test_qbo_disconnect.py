"""Disconnect revokes at Intuit and always clears the local tokens."""

from __future__ import annotations

import httpx
import pytest
from connections_helpers import Wired, connect_qbo

from connector import clients
from connector.clients import use_transport
from connector.errors import ReauthRequired
from connector.qbo import auth as qbo_auth
from tenants.models import Connection


def disconnect(person, org):
    return person.client.post(f"/o/{org.public_id}/connections/qbo/disconnect/", follow=True)


def test_it_revokes_the_token_at_intuit_when_disconnecting(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    old_refresh = connection.refresh_token
    response = disconnect(owner, org_a)
    assert "QuickBooks is disconnected" in response.content.decode()
    connection.refresh_from_db()
    assert (connection.refresh_token, connection.access_token, connection.realm_id) == ("", "", "")
    # Intuit (the sandbox) no longer honours the old refresh token.
    with clients.http_client() as http, pytest.raises(ReauthRequired):
        qbo_auth.refresh(http, clients.qbo_oauth_config(), old_refresh)


def test_it_clears_local_tokens_when_revoking_fails(org_a, owner, wired: Wired) -> None:
    connect_qbo(wired, owner.client, org_a)

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": "unavailable"})

    with use_transport(httpx.MockTransport(down)):
        response = disconnect(owner, org_a)
    assert "did not confirm the disconnection" in response.content.decode()
    connection = Connection.objects.get(organisation=org_a, provider="qbo")
    assert connection.refresh_token == "" and connection.realm_id == ""


def test_it_refuses_viewers_when_they_try_to_disconnect(org_a, owner, viewer, wired: Wired) -> None:
    connect_qbo(wired, owner.client, org_a)
    assert viewer.client.post(f"/o/{org_a.public_id}/connections/qbo/disconnect/").status_code == 403
    assert viewer.client.post(f"/o/{org_a.public_id}/connections/qbo/test/").status_code == 403
    assert Connection.objects.get(organisation=org_a, provider="qbo").refresh_token
