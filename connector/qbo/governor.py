"""One request governor per QuickBooks company, shared by every process that calls it.

QuickBooks counts its limits per company (realm), not per worker (docs/qbo-facts.md, "Limits per
company"): 500 requests a minute, 10 a second, 40 batch requests a minute per app, 10 in flight. Every
client the product builds (syncs, replays, previews, the token keeper's checks) asks the governor
before it sends, so four Celery worker processes syncing one company share one budget.

A caller *reserves* the earliest moment its request may leave (sliding one-minute and one-second
windows, plus a "paused until" set by any process that saw a 429) and waits until then; reserved
times are stored, so concurrent callers queue up instead of all waking at once. Requests in flight
are leases with an expiry, so a killed process frees its slots after ``LEASE_SECONDS``.

``RedisGovernor`` keeps the windows in Redis and updates them with one Lua script (atomic, and on
Redis' clock, so processes on different hosts agree on "now"). ``LocalGovernor`` is the same rules
in memory, for the demo without Redis: one process, so one process's view is the whole truth.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

# A little under QuickBooks' ceilings (docs/qbo-facts.md): a 429 costs a 60 s pause for the whole
# company, so staying a few percent under is the faster path.
PER_MINUTE = 480
PER_SECOND = 9
BATCH_PER_MINUTE = 38
IN_FLIGHT = 8
LEASE_SECONDS = 130.0  # QuickBooks times a request out after 120 s
KEY_TTL_SECONDS = 180  # windows are a minute long; idle companies leave nothing behind
IN_FLIGHT_POLL = 0.02


@dataclass(frozen=True)
class Limits:
    per_minute: int = PER_MINUTE
    per_second: int = PER_SECOND
    batch_per_minute: int = BATCH_PER_MINUTE
    in_flight: int = IN_FLIGHT


class Governor(Protocol):
    limits: Limits

    def reserve(self, realm_id: str, *, batch: bool = False, own_pause: bool = False) -> float:
        """Reserve a send time for one request; returns the seconds to wait before sending.

        own_pause: the caller set the current pause and has already waited it out (its retry
        back-off honours the same Retry-After), so only the windows apply.
        """

    def wait(self, realm_id: str, *, batch: bool = False) -> float:
        """Seconds until a request of this kind could leave, without reserving anything: how the
        two-lane writer (connector/sync/lanes.py) sees that the batch lane is full for now."""

    def enter(self, realm_id: str) -> str | None:
        """Take an in-flight slot: a lease token, or None when all slots are taken."""

    def leave(self, realm_id: str, token: str) -> None: ...

    def pause(self, realm_id: str, seconds: float) -> None:
        """QuickBooks said 429: nobody sends to this company for ``seconds``."""

    def paused_for(self, realm_id: str) -> float:
        """Seconds left of this company's pause (0.0 when not paused)."""


def hold_slot(governor: Governor, realm_id: str, sleep: Callable[[float], None] = time.sleep) -> str:
    """Wait (really: in-flight slots free up as requests finish) until a slot is free."""
    while True:
        token = governor.enter(realm_id)
        if token is not None:
            return token
        sleep(IN_FLIGHT_POLL)


# ---- Redis ------------------------------------------------------------------------------------

# KEYS: requests, seconds, batches, in-flight, paused-until. Scores are Redis' clock in seconds.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local per_minute, per_second, batch_per_minute = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local is_batch, member, ttl = ARGV[4] == '1', ARGV[5], tonumber(ARGV[6])
local function earliest(key, limit, width, at)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - width)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local edge = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
    at = math.max(at, tonumber(edge[2]) + width)
  end
  return at
end
local at = now
local paused = tonumber(redis.call('GET', KEYS[5]) or '0')
if ARGV[7] ~= '1' and paused > at then at = paused end
at = earliest(KEYS[1], per_minute, 60, at)
at = earliest(KEYS[2], per_second, 1, at)
if is_batch then at = earliest(KEYS[3], batch_per_minute, 60, at) end
redis.call('ZADD', KEYS[1], at, member)
redis.call('ZADD', KEYS[2], at, member)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
if is_batch then
  redis.call('ZADD', KEYS[3], at, member)
  redis.call('EXPIRE', KEYS[3], ttl)
end
return tostring(at - now)
"""

# The same windows as _RESERVE, read only. KEYS: requests, seconds, batches, paused-until.
_WAIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local function earliest(key, limit, width, at)
  local n = redis.call('ZCOUNT', key, now - width, '+inf')
  if n >= limit then
    local edge = redis.call('ZREVRANGE', key, limit - 1, limit - 1, 'WITHSCORES')
    at = math.max(at, tonumber(edge[2]) + width)
  end
  return at
end
local at = math.max(now, tonumber(redis.call('GET', KEYS[4]) or '0'))
at = earliest(KEYS[1], tonumber(ARGV[1]), 60, at)
at = earliest(KEYS[2], tonumber(ARGV[2]), 1, at)
if ARGV[4] == '1' then at = earliest(KEYS[3], tonumber(ARGV[3]), 60, at) end
return tostring(at - now)
"""

_ENTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return 1
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then
  redis.call('SET', KEYS[1], tostring(until_), 'EX', math.ceil(tonumber(ARGV[1])) + 1)
end
return tostring(math.max(until_, current) - now)
"""

_PAUSED_FOR = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
return tostring(math.max(0, paused - now))
"""


class RedisGovernor:
    def __init__(self, client: object, limits: Limits = Limits(), prefix: str = "qbo:gov") -> None:
        import redis  # only where Redis is configured

        assert isinstance(client, redis.Redis)
        self.redis, self.limits, self.prefix = client, limits, prefix
        self._reserve = client.register_script(_RESERVE)
        self._enter = client.register_script(_ENTER)
        self._wait = client.register_script(_WAIT)
        self._pause = client.register_script(_PAUSE)
        self._paused_for = client.register_script(_PAUSED_FOR)

    @classmethod
    def from_url(cls, url: str, limits: Limits = Limits(), prefix: str = "qbo:gov") -> RedisGovernor:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=5), limits, prefix)

    def _key(self, realm_id: str, name: str) -> str:
        # {realm} is a hash tag: one company's keys live on one Redis Cluster slot.
        return f"{self.prefix}:{{{realm_id}}}:{name}"

    def reserve(self, realm_id: str, *, batch: bool = False, own_pause: bool = False) -> float:
        keys = [self._key(realm_id, n) for n in ("minute", "second", "batch", "inflight", "paused")]
        limits = self.limits
        args = [
            limits.per_minute,
            limits.per_second,
            limits.batch_per_minute,
            "1" if batch else "0",
            uuid.uuid4().hex,
            KEY_TTL_SECONDS,
            "1" if own_pause else "0",
        ]
        return max(0.0, float(self._reserve(keys=keys, args=args)))

    def wait(self, realm_id: str, *, batch: bool = False) -> float:
        keys = [self._key(realm_id, n) for n in ("minute", "second", "batch", "paused")]
        limits = self.limits
        args = [limits.per_minute, limits.per_second, limits.batch_per_minute, "1" if batch else "0"]
        return max(0.0, float(self._wait(keys=keys, args=args)))

    def enter(self, realm_id: str) -> str | None:
        token = uuid.uuid4().hex
        key = self._key(realm_id, "inflight")
        ok = self._enter(keys=[key], args=[self.limits.in_flight, LEASE_SECONDS, token])
        return token if int(ok) else None

    def leave(self, realm_id: str, token: str) -> None:
        self.redis.zrem(self._key(realm_id, "inflight"), token)

    def pause(self, realm_id: str, seconds: float) -> None:
        self._pause(keys=[self._key(realm_id, "paused")], args=[max(0.0, seconds)])

    def paused_for(self, realm_id: str) -> float:
        return float(self._paused_for(keys=[self._key(realm_id, "paused")]))


# ---- in memory (the demo without Redis) -------------------------------------------------------


class LocalGovernor:
    def __init__(self, limits: Limits = Limits(), clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self._clock = limits, clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._in_flight: dict[str, set[str]] = {}
        self._paused: dict[str, float] = {}

    def reserve(self, realm_id: str, *, batch: bool = False, own_pause: bool = False) -> float:
        with self._lock:
            now = self._clock()
            at = now if own_pause else max(now, self._paused.get(realm_id, 0.0))
            lanes = [("minute", self.limits.per_minute, 60.0), ("second", self.limits.per_second, 1.0)]
            if batch:
                lanes.append(("batch", self.limits.batch_per_minute, 60.0))
            for name, limit, width in lanes:
                at = _earliest(self._windows.setdefault((realm_id, name), deque()), limit, width, now, at)
            for name, _, _ in lanes:
                _insert(self._windows[(realm_id, name)], at)
            return at - now

    def wait(self, realm_id: str, *, batch: bool = False) -> float:
        with self._lock:
            now = self._clock()
            at = max(now, self._paused.get(realm_id, 0.0))
            lanes = [("minute", self.limits.per_minute, 60.0), ("second", self.limits.per_second, 1.0)]
            if batch:
                lanes.append(("batch", self.limits.batch_per_minute, 60.0))
            for name, limit, width in lanes:
                at = _earliest(self._windows.setdefault((realm_id, name), deque()), limit, width, now, at)
            return at - now

    def enter(self, realm_id: str) -> str | None:
        with self._lock:
            slots = self._in_flight.setdefault(realm_id, set())
            if len(slots) >= self.limits.in_flight:
                return None
            token = uuid.uuid4().hex
            slots.add(token)
            return token

    def leave(self, realm_id: str, token: str) -> None:
        with self._lock:
            self._in_flight.get(realm_id, set()).discard(token)

    def pause(self, realm_id: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._paused[realm_id] = max(self._paused.get(realm_id, 0.0), until)

    def paused_for(self, realm_id: str) -> float:
        with self._lock:
            return max(0.0, self._paused.get(realm_id, 0.0) - self._clock())


def _earliest(window: deque[float], limit: int, width: float, now: float, at: float) -> float:
    while window and window[0] <= now - width:
        window.popleft()
    if len(window) >= limit:
        at = max(at, window[-limit] + width)
    return at


def _insert(window: deque[float], at: float) -> None:
    # Kept sorted: a reservation pushed out by a pause may be earlier than none, later than some.
    if not window or window[-1] <= at:
        window.append(at)
        return
    items = sorted([*window, at])
    window.clear()
    window.extend(items)


# ---- the process's governor -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _local() -> LocalGovernor:
    return LocalGovernor()


@lru_cache(maxsize=64)
def _redis(url: str, prefix: str) -> RedisGovernor:
    return RedisGovernor.from_url(url, prefix=prefix)


def shared_governor() -> Governor:
    """Redis' when REDIS_URL is configured (every process shares it), else this process's own."""
    from django.conf import settings

    url = getattr(settings, "REDIS_URL", "") or ""
    return _redis(url, getattr(settings, "QBO_GOVERNOR_PREFIX", "qbo:gov")) if url else _local()
