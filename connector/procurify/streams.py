"""Declarative Procurify streams (style.md item 5).

Each stream is a small class naming its path, primary key, cursor field, page size and whether
the server returns it sorted. ``Stream`` owns the rest: query parameters for date ranges,
following ``next`` links, refusing to loop, and parsing each row into a model or a
``MalformedRecord``. Streams do no I/O themselves; the client hands them a ``fetch`` function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin

import httpx
from pydantic import BaseModel, ValidationError

from connector.errors import Permanent
from connector.procurify.schemas import (
    AccountCode,
    BillSummary,
    Currency,
    Department,
    MalformedRecord,
    Pagination,
    Payment,
    PurchaseOrder,
    Vendor,
)

# fetch(url, params) -> decoded JSON envelope. params is None when following a ``next`` link,
# which already carries every query parameter (procurify.md §2, Pagination).
Fetch = Callable[[str, dict[str, str] | None], Any]

DEFAULT_MAX_PAGES = 10_000


class PaginationLoop(Permanent):
    """The server's ``next`` links went round in a circle or never ended."""


@dataclass(frozen=True)
class Page:
    """One list page read on its own (keyset polling): parsed rows, whether the server has more,
    and the size of the whole filtered set when it said so (a change means the set moved)."""

    rows: list[Any]
    has_next: bool
    count: int | None


class Stream:
    name: ClassVar[str]
    path: ClassVar[str]
    model: ClassVar[type[BaseModel]]
    primary_key: ClassVar[str] = "id"
    cursor_field: ClassVar[str | None] = None
    # procurify.md §2: max page size unpublished; public code uses 50-100.
    page_size: int = 100
    is_sorted: ClassVar[bool] = False
    order_by: ClassVar[str | None] = None
    # Ordering for keyset polls (one page at a time, re-queried from the last stamp): the cursor
    # field plus a stable tie-breaker, so rows sharing a stamp keep their place (procurify.md §7).
    keyset_order: ClassVar[str | None] = None
    # (from, to) query parameter names of the range filter; django-filter `_0`/`_1` naming.
    range_params: ClassVar[tuple[str, str] | None] = None
    # "date" for day-granularity filters (PO modified_date), "datetime" otherwise.
    range_granularity: ClassVar[str] = "datetime"
    extra_params: ClassVar[dict[str, str]] = {}

    def __init__(
        self, site_url: str, *, max_pages: int = DEFAULT_MAX_PAGES, page_size: int | None = None
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self.max_pages = max_pages
        if page_size is not None:
            self.page_size = page_size  # per-instance override for tests and benchmarks

    @property
    def url(self) -> str:
        return self.site_url + self.path

    def params(
        self, start: date | datetime | None = None, end: date | datetime | None = None
    ) -> dict[str, str]:
        params = {"page_size": str(self.page_size), **self.extra_params}
        if self.order_by:
            params["order_by"] = self.order_by
        if start is not None or end is not None:
            params.update(self._range(start, end))
        return params

    def _range(self, start: date | datetime | None, end: date | datetime | None) -> dict[str, str]:
        if self.range_params is None:
            raise ValueError(f"stream {self.name!r} has no date-range filter")
        low, high = self.range_params
        out = {}
        if start is not None:
            out[low] = self._format(start)
        if end is not None:
            out[high] = self._format(end)
        return out

    def _format(self, value: date | datetime) -> str:
        if self.range_granularity == "date":
            return (value.date() if isinstance(value, datetime) else value).isoformat()
        if not isinstance(value, datetime) or value.tzinfo is None:
            # A naive time would be read in the server's zone; refuse rather than guess.
            raise ValueError(f"stream {self.name!r} needs timezone-aware datetimes, got {value!r}")
        return value.isoformat()

    def records(self, fetch: Fetch, params: dict[str, str]) -> Iterator[Any]:
        """Each row as the stream's `model` or a MalformedRecord (the client's methods name the model)."""
        for page in self.pages(fetch, params):
            for raw in page:
                yield self.parse(raw)

    def page(self, fetch: Fetch, params: dict[str, str], number: int = 1) -> Page:
        """Page ``number`` of the list, and no further: a keyset poll never follows ``next`` links."""
        rows, pagination = parse_page(fetch(self.url, {**params, "page": str(number)}))
        return Page([self.parse(raw) for raw in rows], bool(pagination.next), pagination.count)

    def pages(self, fetch: Fetch, params: dict[str, str]) -> Iterator[list[Any]]:
        """Follow ``next`` links from the first page; refuse to visit a URL twice."""
        page_params: dict[str, str] | None  # None after the first page: the next link carries them
        url, page_params = self.url, params
        seen = {str(httpx.URL(self.url, params=params))}
        for _ in range(self.max_pages):
            rows, pagination = parse_page(fetch(url, page_params))
            yield rows
            next_url = self._next_url(pagination, seen)
            if next_url is None:
                return
            url, page_params = next_url, None
        raise PaginationLoop(
            f"Procurify kept sending more pages of {self.name} after {self.max_pages}; stopped.",
            code="pagination_loop",
        )

    def _next_url(self, pagination: Pagination, seen: set[str]) -> str | None:
        if not pagination.next:
            return None
        url = urljoin(self.site_url + "/", pagination.next)
        if not same_origin(url, self.site_url):
            # Following it would send our bearer token to another host, port or over plain http.
            # The link itself is not repeated: it came from the server and may be anything.
            raise Permanent(
                f"Procurify's next-page link for {self.name} points to another host, port or scheme; "
                "it was not followed.",
                code="bad_next_link",
            )
        if url in seen:
            raise PaginationLoop(
                f"Procurify sent the same next-page link twice for {self.name}; stopped to avoid a loop.",
                code="pagination_loop",
            )
        seen.add(url)
        return url

    def parse(self, raw: Any) -> BaseModel | MalformedRecord:
        return parse_record(self.model, raw, self.primary_key)


def same_origin(url: str, site_url: str) -> bool:
    """True when ``url`` keeps the site's scheme, host and port (default ports spelled or not)."""
    try:
        link, site = httpx.URL(url), httpx.URL(site_url)
        return (
            link.scheme == site.scheme
            and link.host.lower().rstrip(".") == site.host.lower().rstrip(".")
            and _port(link) == _port(site)
            and not link.userinfo
        )
    except (httpx.InvalidURL, ValueError, TypeError):
        return False


def _port(url: httpx.URL) -> int | None:
    return url.port or {"https": 443, "http": 80}.get(url.scheme)


_SAFE_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


def parse_record(model: type[BaseModel], raw: Any, primary_key: str = "id") -> Any:
    """Validate one record; on failure return a MalformedRecord naming the fields at fault."""
    record_id = str(raw[primary_key]) if isinstance(raw, dict) and raw.get(primary_key) is not None else None
    if record_id is not None and not _SAFE_ID.match(record_id):
        record_id = None  # a hostile id must not become a hold key (64 chars) or reach a URL
    if not isinstance(raw, dict):
        return MalformedRecord(raw=raw, error=f"expected an object, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        return MalformedRecord(raw=raw, error=_describe(exc), record_id=record_id)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def parse_page(body: Any) -> tuple[list[Any], Pagination]:
    """Split a list envelope into rows and pagination; a broken envelope is Permanent."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise Permanent(
            "Procurify returned a page without a 'data' list; the response could not be read.",
            code="malformed_envelope",
        )
    return body["data"], parse_pagination(body)


def parse_pagination(body: dict[str, Any]) -> Pagination:
    # procurify.md §2: metadata.pagination per the spec; some endpoints reportedly put it top-level.
    metadata = body.get("metadata")
    raw = metadata.get("pagination") if isinstance(metadata, dict) else None
    if raw is None:
        raw = body.get("pagination")
    if raw is None:
        return Pagination()
    try:
        return Pagination.model_validate(raw)
    except ValidationError as exc:
        raise Permanent(
            f"Procurify returned unreadable pagination: {_describe(exc)}", code="malformed_envelope"
        ) from exc


class VendorsStream(Stream):
    # procurify.md §2: `/api/v3/vendors/` without the vendor_group segment; no modified filter.
    name = "vendors"
    path = "/api/v3/vendors/"
    model = Vendor
    cursor_field = "dateModified"


class AccountCodesStream(Stream):
    # No timestamps at all → full scan every run (procurify.md §2).
    name = "account_codes"
    path = "/api/v3/account-codes/"
    model = AccountCode


class CurrenciesStream(Stream):
    # procurify.md §2/§3: `/api/v2/currencies/`; `base` marks the currency totals convert to.
    name = "currencies"
    path = "/api/v2/currencies/"
    model = Currency


class DepartmentsStream(Stream):
    name = "departments"
    path = "/api/v3/departments/"
    model = Department


class BillsStream(Stream):
    # procurify.md §6.4: the watermark filter plus ordering; rows are SimpleBill.
    name = "bills"
    path = "/api/v3/ap/bills/"
    model = BillSummary
    cursor_field = "last_modified_datetime"
    is_sorted = True
    order_by = "last_modified_datetime"
    keyset_order = "last_modified_datetime,id"
    range_params = ("last_modified_datetime_0", "last_modified_datetime_1")


class PurchaseOrdersStream(Stream):
    # procurify.md §6.7: day-granularity filter; allowed order_by fields undocumented, so a full
    # read stays unsorted and only the keyset poll asks for (and checks) an order.
    name = "purchase_orders"
    path = "/api/v2/purchase_orders/purchased/all/"
    model = PurchaseOrder
    primary_key = "uuid"
    cursor_field = "last_modified"
    keyset_order = "last_modified,id"
    range_params = ("modified_date_0", "modified_date_1")
    range_granularity = "date"


class PaymentsStream(Stream):
    # procurify.md §2, §7: public/v1 is the only payments list to use; order_by allows only
    # created_at/updated_at (no id tie-breaker), so a keyset poll orders by updated_at alone.
    name = "payments"
    path = "/api/public/v1/payments/"
    model = Payment
    primary_key = "uuid"
    cursor_field = "updated_at"
    is_sorted = True
    order_by = "updated_at"
    keyset_order = "updated_at"
    range_params = ("updated_at_after", "updated_at_before")
