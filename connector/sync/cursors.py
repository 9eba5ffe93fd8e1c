"""Pure cursor rules (style.md item 6): where a read starts, and how far the cursor may move.

The cursor is the newest `last_modified` we have durably handled. A read starts a little before
it (overlap: the range filter's inclusivity and clock skew are unverified, procurify.md §2) and
never ends after the run's start (the signpost), so a crash re-reads rather than skips.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

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
