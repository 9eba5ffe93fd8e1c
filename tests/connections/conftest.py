"""Fixtures for the connection pages: the in-process sandbox wired in through connector.clients'
transport seam, with the QBO settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from connections_helpers import BASE, REDIRECT_URI, CountingTransport, Wired

from connector.clients import use_transport


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # The shared fixtures create several users per test; the production hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sb():
    from sandbox import Sandbox

    return Sandbox.create(seed="distributor")


@pytest.fixture
def wired(sb, settings) -> Iterator[Wired]:
    urls = sb.qbo_urls()
    creds = sb.credentials
    settings.QBO_CLIENT_ID = creds["qbo"]["client_id"]
    settings.QBO_CLIENT_SECRET = creds["qbo"]["client_secret"]
    settings.QBO_REDIRECT_URI = REDIRECT_URI
    settings.QBO_AUTHORIZE_URL = urls["authorize_url"]
    settings.QBO_TOKEN_URL = urls["token_url"]
    settings.QBO_REVOKE_URL = urls["revoke_url"]
    settings.QBO_API_BASE = urls["api_base"]
    settings.PROCURIFY_TOKEN_URL = ""
    transport = CountingTransport(sb.transport(base_url=BASE))
    procurify = creds["procurify"]["northwind"]
    with use_transport(transport, clock=sb.clock.now):
        yield Wired(
            sb=sb,
            transport=transport,
            realm_id=next(iter(sb.qbo.realms)),
            site_url=sb.procurify_site_url("northwind"),
            procurify_client_id=procurify["client_id"],
            procurify_client_secret=procurify["client_secret"],
        )
