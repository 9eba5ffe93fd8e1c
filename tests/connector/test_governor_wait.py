"""The governor's read-only look at its lanes (Governor.wait), which the two-lane writer uses to see that
the batch lane is full for now (connector/sync/lanes.py): in memory and in the shared Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from connector.qbo.governor import Governor, Limits, LocalGovernor, RedisGovernor

REDIS_URL = os.environ.get("REDIS_URL", "")
LIMITS = Limits(per_minute=4, per_second=100, batch_per_minute=2, in_flight=10)


def _check(governor: Governor) -> None:
    realm = "9130355"
    assert governor.wait(realm, batch=True) == 0.0
    assert [governor.reserve(realm, batch=True) for _ in range(2)] == [0.0, 0.0]
    assert 58.0 <= governor.wait(realm, batch=True) <= 60.5  # the batch lane is full for a minute
    assert governor.wait(realm) == 0.0  # the per-minute lane still has room
    assert governor.wait(realm) == 0.0 and governor.reserve(realm) == 0.0  # wait reserved nothing
    assert governor.reserve(realm) == 0.0
    assert 58.0 <= governor.wait(realm) <= 60.5  # four of four: a single request waits too
    assert governor.wait("4620816", batch=True) == 0.0  # another company's lanes are its own


def test_wait_reads_the_local_lanes_without_reserving() -> None:
    now = [1_000.0]
    _check(LocalGovernor(LIMITS, clock=lambda: now[0]))


@pytest.mark.skipif(not REDIS_URL, reason="the shared governor needs REDIS_URL")
def test_wait_reads_the_shared_lanes_without_reserving() -> None:
    _check(RedisGovernor.from_url(REDIS_URL, LIMITS, f"test-gov-{uuid.uuid4().hex}"))
