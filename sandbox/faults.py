"""Knobs that make the fakes misbehave on purpose: latency, 5xx, lost responses, throttling."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

TARGETS = ("qbo", "procurify")


@dataclass
class Faults:
    """Shared by both fakes. Rates are probabilities per request; `*_next` queues are exact counts."""

    latency_ms: float = 0.0
    error_rate: float = 0.0  # answered 5xx before the request is handled
    error_status: int = 503
    error_targets: tuple[str, ...] = TARGETS
    lose_response_rate: float = 0.0  # QBO writes: committed, then the response is lost
    throttle: bool = False  # QBO per-realm limits below
    requests_per_minute: int = 500
    max_concurrent: int = 10
    batch_per_minute: int = 40
    retry_after: int | None = None  # seconds; QBO does not document the header, so off by default
    procurify_throttle_rate: float = 0.0  # Procurify publishes no limits; 429s only when asked
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _fail_next: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _throttle_next: dict[str, int] = field(default_factory=dict, repr=False)
    _lose_next: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    # --- deterministic one-shots -------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 503, target: str = "qbo") -> None:
        with self._lock:
            self._fail_next.setdefault(_target(target), []).extend([status] * n)

    def throttle_next(self, n: int = 1, target: str = "qbo") -> None:
        with self._lock:
            key = _target(target)
            self._throttle_next[key] = self._throttle_next.get(key, 0) + n

    def lose_next(self, n: int = 1) -> None:
        with self._lock:
            self._lose_next += n

    # --- consulted by the fakes --------------------------------------------------------------
    def injected_error(self, target: str) -> int | None:
        with self._lock:
            queue = self._fail_next.get(target)
            if queue:
                return queue.pop(0)
            if target in self.error_targets and self.error_rate and self._rng.random() < self.error_rate:
                return self.error_status
        return None

    def injected_throttle(self, target: str) -> bool:
        with self._lock:
            if self._throttle_next.get(target):
                self._throttle_next[target] -= 1
                return True
            rate = self.procurify_throttle_rate if target == "procurify" else 0.0
            return bool(rate) and self._rng.random() < rate

    def take_lose(self) -> bool:
        with self._lock:
            if self._lose_next:
                self._lose_next -= 1
                return True
            return bool(self.lose_response_rate) and self._rng.random() < self.lose_response_rate

    def delay(self) -> None:
        # Latency is wall-clock on purpose: it exists to exercise client timeouts and concurrency.
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)

    # --- control ----------------------------------------------------------------------------
    def update(self, **knobs: Any) -> None:
        public = {f.name: f for f in fields(self) if not f.name.startswith("_")}
        with self._lock:
            for name, value in knobs.items():
                if name not in public:
                    raise ValueError(f"unknown fault knob: {name}")
                if name == "error_targets":
                    value = tuple(_target(t) for t in value)
                setattr(self, name, value)
            if "seed" in knobs:
                self._rng.seed(self.seed)

    def reset(self) -> None:
        defaults = Faults()
        self.update(**{k: v for k, v in defaults.as_dict().items()})
        with self._lock:
            self._fail_next.clear()
            self._throttle_next.clear()
            self._lose_next = 0

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        out["error_targets"] = list(self.error_targets)
        return out


def _target(name: str) -> str:
    if name not in TARGETS:
        raise ValueError(f"unknown fault target {name!r}; use one of {TARGETS}")
    return name


class WindowCounter:
    """Sliding one-minute window per key, measured on the fake clock."""

    def __init__(self, window: timedelta = timedelta(minutes=1)) -> None:
        self._window = window
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime, limit: int) -> bool:
        """Record a request; False (not recorded) when the window is already full."""
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self._window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()


class InFlight:
    """Concurrent requests per key (QBO allows 10 per realm and app)."""

    def __init__(self) -> None:
        self._count: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, key: str, limit: int) -> bool:
        with self._lock:
            if self._count.get(key, 0) >= limit:
                return False
            self._count[key] = self._count.get(key, 0) + 1
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            self._count[key] = max(0, self._count.get(key, 0) - 1)
