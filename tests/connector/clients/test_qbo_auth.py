from __future__ import annotations

import base64
import itertools
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connector.errors import Permanent, ReauthRequired, Retryable
from connector.qbo.auth import QBOOAuthConfig, authorization_url, exchange_code, refresh, revoke

CONFIG = QBOOAuthConfig(
    client_id="app-id",
    client_secret="app-secret",
    redirect_uri="https://app.example/qbo/callback",
    authorize_url="https://intuit.test/connect/oauth2",
    token_url="https://intuit.test/oauth2/v1/tokens/bearer",
    revoke_url="https://intuit.test/v2/oauth2/tokens/revoke",
    api_base="https://qbo.test",
    environment="sandbox",
)
TOKEN_PATH = "/oauth2/v1/tokens/bearer"


def token_body(n: int) -> dict:
    return {
        "token_type": "bearer",
        "access_token": f"access-{n}",
        "refresh_token": f"refresh-{n}",
        "expires_in": 3600,
        "x_refresh_token_expires_in": 8726400,
    }


def test_it_builds_the_consent_url_with_the_accounting_scope():
    url = authorization_url(CONFIG, state="xyz")

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CONFIG.authorize_url
    assert query == {
        "client_id": ["app-id"],
        "response_type": ["code"],
        "scope": ["com.intuit.quickbooks.accounting"],
        "redirect_uri": ["https://app.example/qbo/callback"],
        "state": ["xyz"],
    }


def test_it_exchanges_a_code_with_basic_auth_and_a_form_body(fake, http, clock):
    fake.add("POST", TOKEN_PATH, httpx.Response(200, json=token_body(1)))

    tokens = exchange_code(http, CONFIG, "the-code", clock=clock)

    request = fake.requests[0]
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["authorization_code"],
        "code": ["the-code"],
        "redirect_uri": ["https://app.example/qbo/callback"],
    }
    assert tokens.access_token == "access-1"
    assert tokens.access_expires_at == clock.now + timedelta(hours=1)
    assert tokens.refresh_expires_at == clock.now + timedelta(seconds=8726400)


def test_it_returns_the_rotated_refresh_token_each_time(fake, http, clock):
    counter = itertools.count(1)

    def rotating(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        assert form["grant_type"] == ["refresh_token"]
        n = next(counter)
        assert form["refresh_token"] == [f"refresh-{n - 1}"]
        return httpx.Response(200, json=token_body(n))

    fake.add("POST", TOKEN_PATH, rotating, rotating, rotating)

    current = "refresh-0"
    for _ in range(3):
        tokens = refresh(http, CONFIG, current, clock=clock)
        assert tokens.refresh_token != current
        current = tokens.refresh_token

    assert current == "refresh-3"


def test_it_raises_reauth_required_on_invalid_grant(fake, http):
    body = {"error": "invalid_grant", "error_description": "Token invalid"}
    fake.add("POST", TOKEN_PATH, httpx.Response(400, json=body))

    with pytest.raises(ReauthRequired) as info:
        refresh(http, CONFIG, "dead")

    assert info.value.code == "invalid_grant"
    assert "Reconnect QuickBooks" in str(info.value)


def test_it_raises_permanent_on_invalid_client(fake, http):
    fake.add("POST", TOKEN_PATH, httpx.Response(401, json={"error": "invalid_client"}))

    with pytest.raises(Permanent, match="client ID or secret"):
        refresh(http, CONFIG, "r")


@pytest.mark.parametrize("reply", [httpx.Response(503), httpx.ConnectTimeout("slow")])
def test_it_raises_retryable_when_intuit_is_down_or_unreachable(fake, http, reply):
    fake.add("POST", TOKEN_PATH, reply)

    with pytest.raises(Retryable):
        refresh(http, CONFIG, "r")


def test_it_never_retries_a_refresh_by_itself(fake, http):
    fake.add("POST", TOKEN_PATH, httpx.Response(500))

    with pytest.raises(Retryable):
        refresh(http, CONFIG, "r")
    assert len(fake.requests) == 1


def test_it_raises_permanent_when_tokens_are_missing(fake, http):
    fake.add("POST", TOKEN_PATH, httpx.Response(200, json={"access_token": "a"}))

    with pytest.raises(Permanent, match="could not be read"):
        refresh(http, CONFIG, "r")


def test_it_revokes_with_a_json_token_body(fake, http):
    fake.add("POST", "/v2/oauth2/tokens/revoke", httpx.Response(200), httpx.Response(400))

    assert revoke(http, CONFIG, "refresh-9") is True
    assert json.loads(fake.requests[0].content) == {"token": "refresh-9"}
    assert fake.requests[0].headers["Authorization"].startswith("Basic ")
    assert revoke(http, CONFIG, "refresh-9") is False


def test_it_keeps_secrets_out_of_repr(clock):
    assert "app-secret" not in repr(CONFIG)


def test_it_fills_intuit_urls_for_an_environment():
    config = QBOOAuthConfig.intuit("id", "secret", "https://app.example/cb", "sandbox")

    assert config.api_base == "https://sandbox-quickbooks.api.intuit.com"
    assert config.token_url == "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
