"""Pure cursor rules (style.md item 6): where a read starts, how a changing list is paged, and how
far the cursor may move.

The cursor is the newest `last_modified` we have durably handled. A read starts a little before
it (overlap: the range filter's inclusivity and clock skew are unverified, procurify.md §2) and
never ends after the run's start (the signpost), so a crash re-reads rather than skips.

Lists are read with a keyset poll (``Keyset``): one page ordered by modification time, then the
next query starts at the last stamp seen, never at "page 2". A record edited while we read moves
to a later stamp; with page numbers it would shift an unread row onto a page already read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, Protocol, TypeVar

from connector.errors import Permanent

DEFAULT_OVERLAP = timedelta(minutes=5)
DEFAULT_LOOKBACK = timedelta(days=365)


def read_start(
    cursor: datetime | None,
    *,
    signpost: datetime,
    overlap: timedelta = DEFAULT_OVERLAP,
    initial_lookback: timedelta = DEFAULT_LOOKBACK,
    org_start: datetime | None = None,
) -> datetime:
    """The `modified_from` of this run's read window."""
    if cursor is None:
        return org_start if org_start is not None else signpost - initial_lookback
    return min(cursor - overlap, signpost)


def read_end(signpost: datetime) -> datetime:
    """The `modified_to`: the run's start time. Later changes belong to the next run."""
    return signpost


def advance(
    cursor: datetime | None, handled: Iterable[datetime | None], signpost: datetime
) -> datetime | None:
    """The new cursor after a batch is committed: the newest handled value, capped at the signpost.

    Never moves backwards and never past the signpost, even if the source returned rows stamped
    later than the run's start (clock skew on their side).
    """
    newest = max((v for v in handled if v is not None), default=None)
    if newest is None:
        return cursor
    capped = min(newest, signpost)
    if cursor is not None and capped < cursor:
        return cursor
    return capped


def day_window(start: datetime, end: datetime) -> tuple[date, date]:
    """PO filters are date-only (day granularity): re-read whole days (procurify.md §6.7)."""
    return start.astimezone(UTC).date(), end.astimezone(UTC).date()


def day_start(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


# ---- keyset polling ----------------------------------------------------------------------------

Key = TypeVar("Key", bound=date)  # a datetime (bills) or a date (POs: day-granularity filter)
MAX_DRAIN_PASSES = 5
MICROSECOND = timedelta(microseconds=1)


class PageLike(Protocol):
    @property
    def rows(self) -> list[Any]: ...
    @property
    def has_next(self) -> bool: ...
    @property
    def count(self) -> int | None: ...


# fetch(low, high, page_number, by_id) -> one page of rows stamped in [low, high], both inclusive,
# ordered by (stamp, id) — or by id alone when by_id (draining one stamp).
FetchPage = Callable[[Key, Key, int, bool], PageLike]


class Unsorted(Permanent):
    """The source ignored the ordering a keyset poll depends on; paging on could skip rows."""


@dataclass(frozen=True)
class Mark(Generic[Key]):
    """Every row stamped before ``value`` in the window was yielded before this mark."""

    value: Key


class Keyset(Generic[Key]):
    """Rows of a window [low, high] that changes while it is read, each (identity) once, in stamp order,
    with a ``Mark`` after each page: the value a cursor may take once everything before it is handled.

    A row present in the window for the whole poll is always yielded: each query starts at the last
    stamp seen (inclusive, so rows sharing it are listed again and skipped by identity). When a
    whole page shares one stamp, re-querying would loop, so that stamp alone is drained by page
    number ordered by id, repeated until a pass sees the set hold still; if it never does, marks
    stop at that stamp (``ceiling``) so the cursor cannot pass a row that may have been skipped.
    """

    def __init__(
        self,
        fetch: FetchPage[Key],
        *,
        low: Key,
        high: Key,
        stamp: Callable[[Any], Key | None],
        identity: Callable[[Any], Hashable],
        after: Callable[[Key], Key],
        max_drain_passes: int = MAX_DRAIN_PASSES,
    ) -> None:
        self.fetch, self.low, self.high = fetch, low, high
        self.stamp, self.identity, self.after = stamp, identity, after
        self.max_drain_passes = max_drain_passes
        # Identities already yielded, with their stamps; rows stamped before the query start can
        # never be listed again, so they are forgotten (memory follows a page, not the window).
        self.seen: dict[Hashable, Key | None] = {}
        self.ceiling: Key | None = None
        self.requests = 0

    def __iter__(self) -> Iterator[Any]:
        low = self.low
        while True:
            page = self._fetch(low, self.high, 1, False)
            stamps = [s for s in map(self.stamp, page.rows) if s is not None]
            if stamps != sorted(stamps):
                raise Unsorted(
                    "Procurify did not return the list in order of modification, so it could not be "
                    "read without the risk of missing records. Nothing after the last saved point was "
                    "skipped; the sync stopped.",
                    code="unsorted_list",
                )
            yield from self._fresh(page.rows)
            top = max(stamps[-1], low) if stamps else low
            yield self._mark(top)
            if not page.has_next:
                return
            if top == low:  # a full page at one stamp: the next query would return it again
                yield from self._drain(low)
                top = self.after(low)
            low = top
            self.seen = {k: s for k, s in self.seen.items() if s is None or s >= low}

    def _drain(self, at: Key) -> Iterator[Any]:
        for _ in range(self.max_drain_passes):
            counts: set[int | None] = set()
            number, more = 1, True
            while more:
                page = self._fetch(at, at, number, True)
                counts.add(page.count)
                yield from self._fresh(page.rows)
                number, more = number + 1, page.has_next
            if len(counts) == 1:  # the set held still for a whole pass: no row shifted past us
                yield self._mark(at)
                return
        # Still moving after every pass: read on, but never let the cursor pass this stamp.
        self.ceiling = at if self.ceiling is None else min(self.ceiling, at)

    def _fetch(self, low: Key, high: Key, number: int, by_id: bool) -> PageLike:
        self.requests += 1
        return self.fetch(low, high, number, by_id)

    def _fresh(self, rows: list[Any]) -> Iterator[Any]:
        for row in rows:
            key = self.identity(row)
            if key not in self.seen:
                self.seen[key] = self.stamp(row)
                yield row

    def _mark(self, value: Key) -> Mark[Key]:
        return Mark(value if self.ceiling is None else min(value, self.ceiling))


def next_microsecond(value: datetime) -> datetime:
    """The first filter value after ``value`` (Procurify stamps carry microseconds, procurify.md §3)."""
    return value + MICROSECOND


def next_day(value: date) -> date:
    return value + timedelta(days=1)
