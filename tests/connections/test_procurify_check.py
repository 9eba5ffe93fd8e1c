"""'Test connection' for Procurify: a token and one page of vendors, with failures in plain words."""

from __future__ import annotations

import html

import httpx
import pytest
from connections_helpers import Wired

from connector.clients import procurify_client_for, use_transport
from tenants.models import Connection, Provider


def make_connection(org, site_url: str, client_id: str, secret: str) -> Connection:
    return Connection.objects.create(
        organisation=org,
        provider=Provider.PROCURIFY,
        site_url=site_url,
        client_id=client_id,
        client_secret=secret,
    )


def press_test(person, org) -> str:
    response = person.client.post(f"/o/{org.public_id}/connections/procurify/test/", follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_it_reports_success_when_the_credentials_work(org_a, owner, wired: Wired) -> None:
    connection = make_connection(
        org_a, wired.site_url, wired.procurify_client_id, wired.procurify_client_secret
    )
    body = press_test(owner, org_a)
    assert "the site, client ID and secret work" in body
    connection.refresh_from_db()
    assert connection.last_error == ""
    assert connection.last_checked_at is not None
    # The 24-hour token is cached encrypted, with its expiry, for the sync engine to reuse.
    assert connection.access_token and connection.access_expires_at is not None
    assert wired.procurify_client_secret not in body


def test_it_says_the_secret_is_wrong_when_procurify_refuses_it(org_a, owner, wired: Wired) -> None:
    connection = make_connection(org_a, wired.site_url, wired.procurify_client_id, "wrong-secret-value-123")
    body = press_test(owner, org_a)
    assert "Procurify did not accept the client ID and secret" in body
    connection.refresh_from_db()
    assert connection.last_error.startswith("Procurify did not accept the client ID and secret")
    assert "wrong-secret-value-123" not in body


def test_it_says_the_site_is_unknown_when_the_address_is_wrong(org_a, owner, wired: Wired) -> None:
    site = wired.site_url.replace("northwind", "nosuchcompany")
    make_connection(org_a, site, wired.procurify_client_id, wired.procurify_client_secret)
    body = press_test(owner, org_a)
    assert "We could not find a Procurify site at" in body


def test_it_says_the_site_is_unreachable_when_the_network_fails(org_a, owner) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    make_connection(org_a, "http://127.0.0.1:9", "id", "secret-value")
    with use_transport(httpx.MockTransport(refuse)):
        body = press_test(owner, org_a)
    assert "We could not reach http://127.0.0.1:9" in body


def _token_then(status: int, body: object) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(
                200, json={"access_token": "tok", "expires_in": 86400, "token_type": "Bearer"}
            )
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("status", "body", "sentence"),
    [
        (403, {"detail": "You do not have permission."}, "no API access"),
        (200, {"unexpected": True}, "not the way Procurify's API does"),
        (503, {"detail": "down"}, "busy or unavailable"),
    ],
)
def test_it_names_the_failure_when_the_api_answers_oddly(org_a, owner, status, body, sentence: str) -> None:
    make_connection(org_a, "https://acme.procurify.com", "id", "secret-value")
    with use_transport(_token_then(status, body)):
        page = press_test(owner, org_a)
    assert sentence in page


def test_it_reuses_the_cached_token_when_it_is_still_valid(org_a, wired: Wired) -> None:
    make_connection(org_a, wired.site_url, wired.procurify_client_id, wired.procurify_client_secret)
    procurify_client_for(org_a).ping()
    procurify_client_for(org_a).ping()
    assert wired.transport.count("/oauth/token") == 1
