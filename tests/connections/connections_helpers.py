"""Helpers for the connection tests: a counting transport and the QuickBooks consent dance."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from tenants.models import Connection, Organisation, Provider

BASE = "http://sandbox.test"
REDIRECT_URI = "http://testserver/connections/qbo/callback/"


class CountingTransport(httpx.BaseTransport):
    """Wraps the sandbox transport and remembers every request path, so tests can count token calls."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.inner.handle_request(request)

    def count(self, suffix: str) -> int:
        return sum(1 for p in self.paths if p.endswith(suffix))


@dataclass
class Wired:
    sb: object
    transport: CountingTransport
    realm_id: str
    site_url: str
    procurify_client_id: str
    procurify_client_secret: str

    def token_calls(self) -> int:
        return self.transport.count("/oauth2/v1/tokens/bearer")


def connect_url(org: Organisation) -> str:
    return f"/o/{org.public_id}/connections/qbo/connect/"


def start_consent(client, org: Organisation) -> str:
    """POST Connect; returns the state our app put in the Intuit authorize URL."""
    response = client.post(connect_url(org))
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def callback_path(wired: Wired, state: str) -> str:
    url = wired.sb.qbo.approve_for_tests(
        wired.sb.credentials["qbo"]["client_id"], REDIRECT_URI, state, wired.realm_id
    )
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def connect_qbo(wired: Wired, client, org: Organisation) -> Connection:
    state = start_consent(client, org)
    response = client.get(callback_path(wired, state))
    assert response.status_code == 302, response.content[:500]
    return Connection.objects.get(organisation=org, provider=Provider.QBO)


def raw_column(connection: Connection, column: str) -> str:
    from django.db import connection as db

    with db.cursor() as cursor:
        # column names come from the tests themselves, never from input
        cursor.execute(f"SELECT {column} FROM tenants_connection WHERE id = %s", [connection.pk])
        return cursor.fetchone()[0]
