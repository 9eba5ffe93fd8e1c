"""Closed books: what to do with a bill dated on or before QuickBooks' book-close date. Pure.

QuickBooks refuses (or asks for the closing password for) a transaction in closed books
(docs/qbo-facts.md, "Closed books"), so the organisation chooses: hold the bill for a person (the
default), or post it on the first open day with its real date kept in the private note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

HOLD = "hold"
POST_ON_FIRST_OPEN_DAY = "post_on_first_open_day"
POLICIES = (
    (HOLD, "Hold the bill until someone decides"),
    (POST_ON_FIRST_OPEN_DAY, "Post it on the first open day, keeping its date in the private note"),
)
EXPLANATION = (
    "When QuickBooks' books are closed (Settings → Advanced → Close the books), a bill dated on or before "
    "the closing date cannot be posted there. Hold: the bill waits on the held page until the books are "
    "reopened or you change this setting. Post on the first open day: the bill is dated the day after the "
    "closing date, and its own date is written in its private note. Saving this setting retries the held "
    "bills."
)


@dataclass(frozen=True)
class Decision:
    """open: write as dated; hold: held with the sentence's dates; move: write dated `txn_date`."""

    action: str  # "open" | "hold" | "move"
    txn_date: date
    close_date: date | None = None


def decide(txn_date: date, close_date: date | None, policy: str) -> Decision:
    if close_date is None or txn_date > close_date:
        return Decision("open", txn_date, close_date)
    if policy == POST_ON_FIRST_OPEN_DAY:
        return Decision("move", close_date + timedelta(days=1), close_date)
    return Decision("hold", txn_date, close_date)


def moved_note(original: date, close_date: date) -> str:
    closed = human(close_date)
    return (
        f" Dated {original.isoformat()} in Procurify; posted on the first open day "
        f"(books closed through {closed})."
    )


def human(day: date) -> str:
    """31 Oct 2026: the form finance people read without thinking about month-day order."""
    return f"{day.day} {day:%b %Y}"
