from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from connector.errors import Permanent, Retryable
from connector.procurify.auth import (
    AUDIENCE,
    AccessToken,
    BadCredentials,
    MemoryTokenStore,
    default_token_url,
    fetch_token,
)

TOKEN_URL = "https://acme.procurify.com/oauth/token"


def test_it_posts_the_client_credentials_json_body(fake, http, clock):
    fake.add("POST", "/oauth/token", httpx.Response(200, json={"access_token": "t1", "expires_in": 86400}))

    token = fetch_token(http, TOKEN_URL, "cid", "secret", clock=clock)

    sent = json.loads(fake.requests[0].content)
    assert sent == {
        "client_id": "cid",
        "client_secret": "secret",
        "audience": "https://api.procurify.com/",
        "grant_type": "client_credentials",
    }
    assert AUDIENCE.endswith("/")
    assert token.value == "t1"
    assert token.expires_at == clock.now + timedelta(days=1)


def test_it_defaults_the_token_url_to_the_site_domain():
    assert default_token_url("http://127.0.0.1:8765/procurify/acme/") == (
        "http://127.0.0.1:8765/procurify/acme/oauth/token"
    )


@pytest.mark.parametrize("status", [401, 403])
def test_it_raises_bad_credentials_when_procurify_refuses_the_secret(fake, http, status):
    fake.add("POST", "/oauth/token", httpx.Response(status, json={"error": "access_denied"}))

    with pytest.raises(BadCredentials) as info:
        fetch_token(http, TOKEN_URL, "cid", "wrong")

    assert isinstance(info.value, Permanent)
    assert "client ID and secret" in str(info.value)
    assert info.value.code == "access_denied"


def test_it_raises_retryable_with_a_sentence_when_the_host_is_unreachable(fake, http):
    fake.add("POST", "/oauth/token", httpx.ConnectError("Name or service not known"))

    with pytest.raises(Retryable) as info:
        fetch_token(http, TOKEN_URL, "cid", "secret")

    assert str(info.value) == (
        "Could not reach Procurify at acme.procurify.com. Check the address and try again later."
    )


def test_it_raises_retryable_when_the_token_service_is_down(fake, http):
    fake.add("POST", "/oauth/token", httpx.Response(503, headers={"Retry-After": "5"}))

    with pytest.raises(Retryable) as info:
        fetch_token(http, TOKEN_URL, "cid", "secret")

    assert info.value.retry_after == 5


def test_it_raises_permanent_when_the_token_response_is_not_json(fake, http):
    fake.add("POST", "/oauth/token", httpx.Response(200, text="<html>login</html>"))

    with pytest.raises(Permanent, match="could not be read"):
        fetch_token(http, TOKEN_URL, "cid", "secret")


def test_it_keeps_the_token_value_out_of_repr(clock):
    store = MemoryTokenStore()
    store.save(AccessToken("very-secret", clock.now))

    assert "very-secret" not in repr(store.load())
    assert store.saves == 1
