"""A clock both fakes share, so token lifetimes and throttle windows can be tested in milliseconds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Follows real time until frozen, set or advanced; from then on it only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = _aware(start) if start is not None else None

    def now(self) -> datetime:
        with self._lock:
            return self._frozen if self._frozen is not None else datetime.now(UTC)

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        with self._lock:
            base = self._frozen if self._frozen is not None else datetime.now(UTC)
            self._frozen = base + timedelta(seconds=seconds, **delta)
            return self._frozen

    def set(self, when: datetime) -> None:
        with self._lock:
            self._frozen = _aware(when)

    def freeze(self) -> datetime:
        with self._lock:
            if self._frozen is None:
                self._frozen = datetime.now(UTC)
            return self._frozen

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen = None

    @property
    def frozen(self) -> bool:
        return self._frozen is not None


def _aware(when: datetime) -> datetime:
    # Naive datetimes are a bug magnet in token-expiry maths; read them as UTC.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
