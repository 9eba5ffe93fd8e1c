"""The bills list's keyset index: the cost of a page is proportional to the page, not to the site.

Procurify serves its lists from a database with indexes; a fake that sorts, filters and renders every
bill for each page made a 100,000-bill listing quadratic and measured the fake, not our client. The
index is the bills sorted by (last_modified, id), with prefix sums for the list's summary, rebuilt when
``Site.generation`` moves (a bill added, removed or re-stamped). Only the common query shape uses it:
a ``last_modified_datetime`` range ordered by that stamp; every other shape takes the full path.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from .procurify_data import Site
from .procurify_render import bill_totals

FAST_PARAMS = frozenset(
    {"last_modified_datetime_0", "last_modified_datetime_1", "order_by", "ordering", "page", "page_size"}
)
FAST_ORDERS = frozenset({"last_modified_datetime,id", "last_modified_datetime"})


@dataclass
class BillIndex:
    generation: int
    size: int
    keys: list[tuple[datetime, int]]
    uuids: list[str]
    total_prefix: list[Decimal]
    currency_prefix: dict[int, list[int]]

    def window(self, low: datetime | None, high: datetime | None) -> tuple[int, int]:
        lo = 0 if low is None else bisect_left(self.keys, (low,))
        hi = len(self.keys) if high is None else bisect_right(self.keys, (high, float("inf")))
        return lo, max(lo, hi)

    def total(self, lo: int, hi: int) -> Decimal:
        return self.total_prefix[hi] - self.total_prefix[lo]

    def currencies(self, lo: int, hi: int) -> int:
        return sum(1 for counts in self.currency_prefix.values() if counts[hi] - counts[lo])


def usable(params: Any) -> bool:
    order = params.get("order_by") or params.get("ordering") or ""
    return set(params.keys()) <= FAST_PARAMS and order in FAST_ORDERS


def bill_index(site: Site) -> BillIndex:
    cached: BillIndex | None = getattr(site, "_bill_index", None)
    if cached is not None and cached.generation == site.generation and cached.size == len(site.bills):
        return cached
    rows = sorted(site.bills.values(), key=lambda b: (b["last_modified"], b["id"]))
    prefix, running = [Decimal(0)], Decimal(0)
    currency_prefix: dict[int, list[int]] = {c: [0] for c in {b["currency_id"] for b in rows}}
    for bill in rows:
        # The list's summary adds the rendered float totals, so the same rounding is kept here.
        running += Decimal(str(float(bill_totals(bill)["total"])))
        prefix.append(running)
        for currency, counts in currency_prefix.items():
            counts.append(counts[-1] + (bill["currency_id"] == currency))
    index = BillIndex(
        site.generation,
        len(site.bills),
        [(b["last_modified"], b["id"]) for b in rows],
        [b["uuid"] for b in rows],
        prefix,
        currency_prefix,
    )
    site._bill_index = index
    return index


def page_rows(site: Site, index: BillIndex, start: int, stop: int) -> list[dict[str, Any]] | None:
    """The bills at index positions [start, stop), or None when one was changed behind the index."""
    rows = [site.bills.get(uuid) for uuid in index.uuids[start:stop]]
    for row, key in zip(rows, index.keys[start:stop], strict=True):
        if row is None or (row["last_modified"], row["id"]) != key:
            return None
    return cast("list[dict[str, Any]]", rows)  # the loop returned None on any missing row
