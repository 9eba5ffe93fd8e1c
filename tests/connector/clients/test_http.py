from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from connector.errors import Permanent, Retryable
from connector.http import build_client, parse_retry_after, redact_url, send_with_retries


class Ticks:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_it_parses_retry_after_seconds_and_http_dates():
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    assert parse_retry_after("12", now=now) == 12
    assert parse_retry_after("Mon, 02 Mar 2026 12:01:00 GMT", now=now) == 60
    assert parse_retry_after("Mon, 02 Mar 2026 11:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_it_redacts_secret_query_values():
    url = redact_url("https://x.test/cb?code=abc&state=s1&realmId=42")

    assert "abc" not in url and "s1" not in url
    assert "realmId=42" in url


def test_it_logs_requests_without_secrets(caplog):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "tok-secret"}, headers={"intuit_tid": "tid-1"})

    caplog.set_level(logging.DEBUG, logger="connector.http")
    with build_client(transport=httpx.MockTransport(handler)) as client:
        client.post(
            "https://x.test/oauth/token?refresh_token=rt-secret",
            data={"client_secret": "cs-secret"},
            headers={"Authorization": "Bearer bearer-secret"},
        )

    text = caplog.text
    for secret in ("tok-secret", "rt-secret", "cs-secret", "bearer-secret"):
        assert secret not in text
    assert "tid-1" in text and "[redacted]" in text


def test_it_sets_our_user_agent_and_timeouts():
    with build_client() as client:
        assert client.headers["User-Agent"] == "ml-connector/0.1"
        assert client.timeout.read == 60.0
        assert client.follow_redirects is False


def test_it_returns_at_once_without_sleeping_on_success():
    sleeps: list[float] = []
    with build_client() as client:
        assert send_with_retries(client, lambda c: "ok", sleep=sleeps.append) == "ok"
    assert sleeps == []


def test_it_backs_off_exponentially_with_full_jitter():
    sleeps: list[float] = []
    calls = iter([Retryable("a"), Retryable("b"), Retryable("c"), None])

    def flaky(client):
        error = next(calls)
        if error:
            raise error
        return "done"

    with build_client() as client:
        result = send_with_retries(client, flaky, max_attempts=4, sleep=sleeps.append, rand=lambda: 1.0)

    assert result == "done"
    assert sleeps == [1.0, 2.0, 4.0]


def test_it_hands_back_a_retry_after_longer_than_the_cap_instead_of_blocking():
    sleeps: list[float] = []

    def throttled(client):
        raise Retryable("slow down", retry_after=3600)

    with build_client() as client, pytest.raises(Retryable) as info:
        send_with_retries(client, throttled, sleep=sleeps.append, max_delay=60)

    assert info.value.retry_after == 3600
    assert sleeps == []


def test_it_stops_when_the_total_wait_budget_is_spent():
    sleeps: list[float] = []
    ticks = Ticks()

    def failing(client):
        ticks.t += 100
        raise Retryable("down", retry_after=30)

    with build_client() as client, pytest.raises(Retryable):
        send_with_retries(
            client, failing, max_attempts=10, sleep=sleeps.append, clock=ticks, max_total_wait=250
        )

    assert len(sleeps) == 2


def test_it_does_not_retry_permanent_errors():
    attempts = []

    def refused(client):
        attempts.append(1)
        raise Permanent("no")

    with build_client() as client, pytest.raises(Permanent):
        send_with_retries(client, refused, sleep=lambda s: None)
    assert len(attempts) == 1
