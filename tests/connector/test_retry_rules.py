"""Which answers mean "try again later", and how long the server asked us to wait."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from connector.retry_rules import is_throttled, is_transient, retry_after, throttle_wait

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


def test_429_and_every_5xx_are_transient_and_nothing_else_is() -> None:
    assert all(is_transient(status) for status in (429, 500, 502, 503, 504))
    assert not any(is_transient(status) for status in (200, 400, 401, 403, 404, 409, 422))
    assert is_throttled(429) and not is_throttled(503)


def test_the_wait_is_the_servers_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"}), _clock) == 7.0
    dated = httpx.Response(503, headers={"Retry-After": "Mon, 02 Mar 2026 12:00:30 GMT"})
    assert retry_after(dated, _clock) == 30.0
    assert retry_after(httpx.Response(503), _clock) is None


def test_a_throttle_without_retry_after_waits_the_default() -> None:
    assert throttle_wait(httpx.Response(429), _clock, 60.0) == 60.0
    assert throttle_wait(httpx.Response(429, headers={"Retry-After": "5"}), _clock, 60.0) == 5.0
