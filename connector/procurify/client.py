"""ProcurifyClient: authenticated, retried, paged GETs returning typed records (procurify.md §2, §6)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel

from connector import retry_rules
from connector.errors import Permanent, ReauthRequired, Retryable
from connector.http import network_error, send_with_retries, utcnow
from connector.procurify.auth import AccessToken, TokenStore, default_token_url, fetch_token
from connector.procurify.schemas import (
    AccountCode,
    Bill,
    BillSummary,
    Currency,
    Department,
    MalformedRecord,
    Payment,
    PurchaseOrder,
    Vendor,
)
from connector.procurify.streams import (
    DEFAULT_MAX_PAGES,
    AccountCodesStream,
    BillsStream,
    CurrenciesStream,
    DepartmentsStream,
    Page,
    PaymentsStream,
    PurchaseOrdersStream,
    Stream,
    VendorsStream,
    parse_page,
    parse_record,
)


@dataclass(frozen=True)
class PingResult:
    token_expires_at: datetime
    vendor_count: int | None


class ProcurifyClient:
    def __init__(
        self,
        site_url: str,
        client_id: str,
        client_secret: str,
        token_store: TokenStore,
        *,
        http: httpx.Client,
        token_url: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        margin: timedelta = timedelta(minutes=5),
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        max_pages: int = DEFAULT_MAX_PAGES,
        page_size: int | None = None,
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._tokens = token_store
        self._http = http
        self.token_url = token_url or default_token_url(self.site_url)
        self._clock = clock
        self._margin = margin
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._max_pages = max_pages
        self._page_size = page_size  # None: each stream's declared size (100)

    def __repr__(self) -> str:
        return f"ProcurifyClient({self.site_url!r})"

    # ---- public API -------------------------------------------------------------------------

    def ping(self) -> PingResult:
        """Check credentials and API access: a token plus the first (1-row) page of vendors."""
        token = self._valid_token()
        stream = VendorsStream(self.site_url)
        body = self._get_json(stream.url, {"page_size": "1"})
        _, pagination = parse_page(body)
        return PingResult(token_expires_at=token.expires_at, vendor_count=pagination.count)

    def iter_vendors(self) -> Iterator[Vendor | MalformedRecord]:
        return self._iter(VendorsStream)

    def iter_account_codes(self) -> Iterator[AccountCode | MalformedRecord]:
        return self._iter(AccountCodesStream)

    def iter_currencies(self) -> Iterator[Currency | MalformedRecord]:
        return self._iter(CurrenciesStream)

    def iter_departments(self) -> Iterator[Department | MalformedRecord]:
        return self._iter(DepartmentsStream)

    def iter_bills(
        self, modified_from: datetime, modified_to: datetime
    ) -> Iterator[BillSummary | MalformedRecord]:
        return self._iter(BillsStream, modified_from, modified_to)

    def iter_purchase_orders(
        self, modified_from: date, modified_to: date
    ) -> Iterator[PurchaseOrder | MalformedRecord]:
        return self._iter(PurchaseOrdersStream, modified_from, modified_to)

    def bills_page(
        self, modified_from: datetime, modified_to: datetime, *, page: int = 1, by_id: bool = False
    ) -> Page:
        """One page of bills modified in [from, to] (both inclusive), oldest first, ties by id;
        ``by_id`` orders by id alone (draining one crowded stamp, engine keyset poll)."""
        return self._page(BillsStream, modified_from, modified_to, page, by_id)

    def purchase_orders_page(
        self, modified_from: date, modified_to: date, *, page: int = 1, by_id: bool = False
    ) -> Page:
        """One page of POs modified on the days [from, to], oldest first, ties by id (or by id alone)."""
        return self._page(PurchaseOrdersStream, modified_from, modified_to, page, by_id)

    def payments_page(self, updated_from: datetime, updated_to: datetime, *, page: int = 1) -> Page:
        """One page of payments updated in [from, to], oldest first (ties in the server's order)."""
        return self._page(PaymentsStream, updated_from, updated_to, page, by_id=False)

    def payments_by_id(self, ids: list[int]) -> Iterator[Payment | MalformedRecord]:
        """The payments with these ids (held payments re-read on a later run)."""
        stream = PaymentsStream(self.site_url, max_pages=self._max_pages, page_size=self._page_size)
        for chunk in range(0, len(ids), 50):
            params = {**stream.params(), "ids": ",".join(str(i) for i in ids[chunk : chunk + 50])}
            yield from stream.records(self._get_json, params)

    def bills_in_group(self, group: int) -> Iterator[BillSummary | MalformedRecord]:
        """Every bill of one bill group (the bills list's `group` filter, procurify.md §2)."""
        stream = BillsStream(self.site_url, max_pages=self._max_pages, page_size=self._page_size)
        return stream.records(self._get_json, {**stream.params(), "group": str(group)})

    def get_bill(self, uuid: str) -> Bill | MalformedRecord:
        # Detail lives on v2 and takes the uuid (procurify.md §2 table).
        return self._get_detail(f"/api/v2/ap/bills/{_path_id(uuid)}/", Bill, "uuid")

    def get_purchase_order(self, id_or_uuid: str | int) -> PurchaseOrder | MalformedRecord:
        return self._get_detail(f"/api/v2/purchase_orders/{_path_id(id_or_uuid)}/", PurchaseOrder, "uuid")

    @contextmanager
    def download(self, url: str) -> Iterator[httpx.Response]:
        """Open a file Procurify links to (an invoice attachment) as a stream; the caller reads it in
        chunks and it is closed on exit. Through the same guarded HTTP client as every Procurify call
        (connector/netguard.py), so a link pointing inside our network is refused before it is sent;
        our token goes only to the Procurify site itself, never to another host a link names."""
        target, site = httpx.URL(url), httpx.URL(self.site_url)
        headers = {"Accept": "*/*"}
        if (target.scheme, target.host, target.port) == (site.scheme, site.host, site.port):
            headers["Authorization"] = f"Bearer {self._valid_token().value}"
            headers["X-Procurify-Client"] = "api"
        try:
            response = self._http.send(self._http.build_request("GET", target, headers=headers), stream=True)
        except httpx.TransportError as exc:
            raise network_error(exc, "Procurify") from exc
        try:
            status = response.status_code
            if retry_rules.is_transient(status):
                raise Retryable(
                    f"Procurify could not send the file (HTTP {status}).", code="procurify_unavailable"
                )
            if status >= 300:
                raise Permanent(
                    f"Procurify refused to send the file (HTTP {status}).",
                    code="download_refused",
                    status=status,
                )
            yield response
        finally:
            response.close()

    # ---- paging and parsing -----------------------------------------------------------------

    def _iter(
        self, stream_cls: type[Stream], start: date | None = None, end: date | None = None
    ) -> Iterator[Any]:
        stream = stream_cls(self.site_url, max_pages=self._max_pages, page_size=self._page_size)
        params = stream.params(start, end)  # validates the range before any request
        return stream.records(self._get_json, params)

    def _page(self, stream_cls: type[Stream], start: date, end: date, number: int, by_id: bool) -> Page:
        stream = stream_cls(self.site_url, max_pages=self._max_pages, page_size=self._page_size)
        params = stream.params(start, end)
        order = "id" if by_id else stream.keyset_order
        if order:
            params["order_by"] = order
        try:
            return stream.page(self._get_json, params, number)
        except Permanent as exc:
            if exc.status == 404 and number > 1:
                return Page([], has_next=False, count=None)  # the set shrank: that page is gone
            raise

    def _get_detail(self, path: str, model: type[BaseModel], primary_key: str) -> Any:
        body = self._get_json(self.site_url + path, None)
        if not isinstance(body, dict) or "data" not in body:
            raise Permanent(
                f"Procurify returned a response without 'data' for {path}.", code="malformed_envelope"
            )
        return parse_record(model, body["data"], primary_key)

    # ---- one request: token, 401 renewal, classification ------------------------------------

    def _get_json(self, url: str, params: dict[str, str] | None) -> Any:
        return send_with_retries(
            self._http,
            lambda _http: self._get_once(url, params),
            max_attempts=self._max_attempts,
            sleep=self._sleep,
            service="Procurify",
        )

    def _get_once(self, url: str, params: dict[str, str] | None) -> Any:
        response = self._send(url, params, self._valid_token())
        if response.status_code == 401:
            # Expired or revoked bearer: renew once and retry once (procurify.md §6.1).
            response = self._send(url, params, self._renew())
            if response.status_code == 401:
                raise ReauthRequired(
                    "Procurify refused a freshly issued token. Check that the API application and the "
                    "user who created it are still active in Procurify.",
                    code="procurify_unauthorized",
                    status=401,
                )
        self._classify(response)
        return _decode(response)

    def _send(self, url: str, params: dict[str, str] | None, token: AccessToken) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token.value}",
            "X-Procurify-Client": "api",  # enforcement unverified; always send (procurify.md §1)
            "Accept": "application/json",
        }
        return self._http.get(url, params=params, headers=headers)

    def _classify(self, response: httpx.Response) -> None:
        """The one place that maps Procurify HTTP outcomes onto our error family."""
        status = response.status_code
        if status < 400:
            return
        detail = _error_detail(response)
        if retry_rules.is_transient(status):
            raise Retryable(
                f"Procurify is busy or unavailable (HTTP {status}).",
                retry_after=retry_rules.retry_after(response, self._clock),
                code="procurify_unavailable",
                status=status,
            )
        if status == 403:
            message = (
                "Procurify refused access (HTTP 403). The user who created the API application needs a "
                "role that can read vendors, accounts and bills."
            )
        elif status == 404:
            message = f"Procurify could not find {response.request.url.path}."
        else:
            # The remote body stays in `detail` (for the audit trail), never in the sentence people read.
            message = f"Procurify refused the request (HTTP {status})."
        raise Permanent(message, code=f"procurify_http_{status}", detail=detail, status=status)

    # ---- tokens -----------------------------------------------------------------------------

    def _valid_token(self) -> AccessToken:
        token = self._tokens.load()
        if token is None or token.expires_within(self._margin, self._clock()):
            return self._renew()
        return token

    def _renew(self) -> AccessToken:
        token = fetch_token(
            self._http, self.token_url, self._client_id, self._client_secret, clock=self._clock
        )
        self._tokens.save(token)
        return token


def _path_id(value: str | int) -> str:
    text = str(value)
    # Ids go into the path; anything but [0-9a-zA-Z-] could change which resource we hit.
    if not text or not all(c.isalnum() or c == "-" for c in text):
        raise ValueError(f"not a Procurify id or uuid: {value!r}")
    return text


def _decode(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        kind = response.headers.get("Content-Type", "unknown content type")
        raise Permanent(
            f"Procurify answered {response.request.url.path} with something that is not JSON ({kind}).",
            code="malformed_envelope",
            status=response.status_code,
        ) from exc


def _error_detail(response: httpx.Response) -> str | None:
    # DRF style bodies: {"detail": "..."} or {"field": ["msg"]} (procurify.md §4, unverified).
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return str(body["detail"])
        if isinstance(body.get("message"), str):
            return str(body["message"])
        return "; ".join(f"{k}: {v}" for k, v in body.items())[:500]
    return None
