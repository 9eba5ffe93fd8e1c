"""The per-company governor against the real Redis (REDIS_URL): two clients, each with its own Redis
connection as a separate worker process would have, share one company's budget; a 429 seen by one
pauses the other; a throttled run hands its worker back instead of sleeping."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from connector.errors import Retryable
from connector.qbo.client import QBOClient
from connector.qbo.governor import Limits, LocalGovernor, RedisGovernor
from sandbox import Sandbox
from tests.engine.conftest import build_harness, no_sleep

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="the shared governor needs REDIS_URL")


def _pair(limits: Limits) -> tuple[RedisGovernor, RedisGovernor]:
    prefix = f"test-gov-{uuid.uuid4().hex}"
    return RedisGovernor.from_url(REDIS_URL, limits, prefix), RedisGovernor.from_url(
        REDIS_URL, limits, prefix
    )


@needs_redis
def test_two_processes_share_one_companys_requests_per_minute() -> None:
    first, second = _pair(Limits(per_minute=10, per_second=1000, batch_per_minute=40, in_flight=10))

    def reserve(governor: RedisGovernor) -> float:
        return governor.reserve("9130355", batch=False)

    with ThreadPoolExecutor(max_workers=2) as pool:
        waits = list(pool.map(reserve, [first, second] * 6))

    immediate = [w for w in waits if w < 1.0]
    later = [w for w in waits if w >= 1.0]
    assert len(immediate) == 10  # the 10 the minute allows, whichever process asked
    assert len(later) == 2 and all(58.0 <= w <= 61.0 for w in later)
    # Another company's budget is untouched.
    assert first.reserve("4620816") == 0.0


@needs_redis
def test_the_per_second_and_batch_lanes_are_shared_too() -> None:
    first, second = _pair(Limits(per_minute=500, per_second=3, batch_per_minute=2, in_flight=10))
    realm = "123145"
    assert [first.reserve(realm), second.reserve(realm), first.reserve(realm)] == [0.0, 0.0, 0.0]
    fourth = second.reserve(realm)
    assert 0.5 <= fourth <= 1.05  # the fourth request of the same second waits for the next one

    batch_first, batch_second = _pair(
        Limits(per_minute=500, per_second=100, batch_per_minute=2, in_flight=10)
    )
    assert batch_first.reserve(realm, batch=True) == 0.0
    assert batch_second.reserve(realm, batch=True) == 0.0
    assert batch_first.reserve(realm, batch=True) >= 58.0  # the batch lane is full for a minute
    assert batch_second.reserve(realm, batch=False) < 1.0  # single requests still go


@needs_redis
def test_requests_in_flight_are_capped_across_processes() -> None:
    first, second = _pair(Limits(in_flight=2))
    realm = "555"
    a, b = first.enter(realm), second.enter(realm)
    assert a and b
    assert first.enter(realm) is None and second.enter(realm) is None
    second.leave(realm, a)  # any process may release a slot it is told about
    assert first.enter(realm) is not None


@needs_redis
def test_a_429_seen_by_one_client_pauses_the_company_for_every_client(db) -> None:
    first, second = _pair(Limits())
    harness = build_harness(Sandbox.create(seed="distributor"))
    try:
        api_base = harness.sb.qbo_urls()["api_base"]
        token = harness.qbo._token_provider
        one = QBOClient(
            api_base,
            harness.realm_id,
            token,
            http=harness.http,
            sleep=no_sleep,
            max_attempts=1,
            governor=first,
        )
        waited: list[float] = []
        two = QBOClient(
            api_base, harness.realm_id, token, http=harness.http, sleep=waited.append, governor=second
        )
        harness.sb.faults.throttle_next(1, target="qbo")

        with pytest.raises(Retryable) as raised:
            one.preferences()
        assert raised.value.code == "qbo_throttled"
        assert 58.0 <= second.paused_for(harness.realm_id) <= 60.0  # Intuit's 60 s, no Retry-After given

        two.preferences()  # the other "process" waits out the pause before it sends
        assert waited and 58.0 <= waited[0] <= 60.0
        assert harness.sb.qbo.stats(harness.realm_id)["throttled"] == 1  # it did not hit QuickBooks early
    finally:
        harness.http.close()


@needs_redis
def test_a_longer_retry_after_is_honoured_by_every_client(db) -> None:
    first, second = _pair(Limits())
    harness = build_harness(Sandbox.create(seed="distributor"))
    try:
        harness.sb.faults.retry_after = 240
        harness.sb.faults.throttle_next(1, target="qbo")
        harness.qbo.governor = first
        harness.qbo._max_attempts = 1
        with pytest.raises(Retryable):
            harness.qbo.company_info()
        assert 238.0 <= second.paused_for(harness.realm_id) <= 240.0
    finally:
        harness.http.close()


def test_the_in_process_fallback_keeps_the_same_rules() -> None:
    now = [1000.0]
    governor = LocalGovernor(Limits(per_minute=3, per_second=100, batch_per_minute=1), clock=lambda: now[0])
    assert [governor.reserve("1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert governor.reserve("1") == 60.0
    assert governor.reserve("2", batch=True) == 0.0
    assert governor.reserve("2", batch=True) == 60.0
    governor.pause("3", 90.0)
    assert governor.paused_for("3") == 90.0 and governor.reserve("3") == 90.0
