"""QBOClient: one realm, every call pinned to a minorversion, every Fault classified in one place.

quickbooks-online.md §2 (requests, minorversion, requestid), §5 (Fault envelope and retry
policy), §6 (query paging), §7 (batch), §12.9 (XML faults despite JSON Accept).
"""

from __future__ import annotations

import copy
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import httpx
from pydantic import ValidationError

from connector import retry_rules
from connector.errors import FaultError, Permanent, QBOFault, ReauthRequired, Retryable
from connector.http import network_error, send_with_retries, utcnow
from connector.qbo import query as q
from connector.qbo.governor import Governor, hold_slot, shared_governor
from connector.qbo.schemas import CompanyInfo, Entity, Fault, Preferences, entity_model

# token_provider(force_refresh) -> a valid access token. The Django layer implements it under
# a row lock; force_refresh=True after a 401 (style.md item 9).
TokenProvider = Callable[[bool], str]

THROTTLE_WAIT = 60.0  # Intuit: wait 60 s after a 429 when no Retry-After is given (§9)
MAX_BATCH_ITEMS = 30  # §7: recommended maximum payloads per batch
MAX_QUERY_PAGES = 10_000


@dataclass(frozen=True)
class BatchItemResult:
    """One successful batch item: ``entity`` is e.g. "Vendor" or "QueryResponse"."""

    bid: str
    entity: str
    data: Any


class TokenExpiredInFlight(Exception):
    """A detached call met a 401: the token must be refreshed where the database is at hand."""


class QBOClient:
    def __init__(
        self,
        api_base: str,
        realm_id: str,
        token_provider: TokenProvider,
        *,
        http: httpx.Client,
        minorversion: int = 75,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        clock: Callable[[], datetime] = utcnow,
        throttle_wait: float = THROTTLE_WAIT,
        max_delay: float = 90.0,
        governor: Governor | None = None,
        on_metered: Callable[[str], None] | None = None,
    ) -> None:
        if not realm_id or not realm_id.isalnum():
            raise ValueError(f"not a QuickBooks realm id: {realm_id!r}")
        self.company_url = f"{api_base.rstrip('/')}/v3/company/{realm_id}"
        self.realm_id = realm_id
        self._token_provider = token_provider
        self._http = http
        self.minorversion = minorversion
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._clock = clock
        self._throttle_wait = throttle_wait
        self._max_delay = max_delay
        # One budget per company across every process (connector/qbo/governor.py).
        self.governor = governor or shared_governor()
        self._paused_by_me = False
        # Told of each successful call Intuit meters (reads, queries, CDC, batch: docs/qbo-facts.md).
        self.on_metered = on_metered

    def __repr__(self) -> str:
        return f"QBOClient(realm_id={self.realm_id!r})"

    def access_token(self) -> str:
        """A valid access token, refreshed if it expired (an OAuth call: not metered, no company limit)."""
        return self._token_provider(False)

    def detached(self) -> tuple[QBOClient, list[str]]:
        """A copy for one call on a background thread (connector/sync/lanes.py) that touches no
        database: it sends the access token valid now, raises TokenExpiredInFlight where it would
        refresh, and collects the metered kinds (the list returned) for the caller to report.
        Same HTTP client and governor: the company's limits still count every request."""
        token = self.access_token()
        metered: list[str] = []

        def fixed(force_refresh: bool) -> str:
            if force_refresh:
                raise TokenExpiredInFlight
            return token

        twin = copy.copy(self)
        twin._token_provider, twin.on_metered, twin._paused_by_me = fixed, metered.append, False
        return twin, metered

    # ---- reads ------------------------------------------------------------------------------

    def read(self, entity: str, id: str) -> Entity:
        body = self._call("GET", f"/{_segment(entity)}/{_id(id)}")
        return _entity(entity, body)

    def company_info(self) -> CompanyInfo:
        body = self._call("GET", f"/companyinfo/{self.realm_id}")
        info = _entity("CompanyInfo", body)
        assert isinstance(info, CompanyInfo)
        return info

    def preferences(self) -> Preferences:
        body = self._call("GET", "/preferences")
        prefs = _entity("Preferences", body)
        assert isinstance(prefs, Preferences)
        return prefs

    def query(self, statement: str) -> dict[str, Any]:
        """Run one statement; returns ``QueryResponse`` (``{}`` when nothing matched, §6)."""
        body = self._call("GET", "/query", params={"query": statement})
        response = body.get("QueryResponse")
        if not isinstance(response, dict):
            raise Permanent("QuickBooks answered a query without a QueryResponse.", code="malformed_response")
        return response

    def query_all(
        self,
        entity: str,
        where: str | Sequence[str] = "",
        *,
        page_size: int = 1000,
        order_by: str | None = None,
    ) -> Iterator[Entity]:
        """Page with STARTPOSITION/MAXRESULTS until a short page (§6); refuses a repeating page."""
        conditions = [where] if isinstance(where, str) else list(where)
        model = entity_model(entity)
        seen_first_ids: set[str] = set()
        start = 1
        for _ in range(MAX_QUERY_PAGES):
            statement = q.select(
                entity, *conditions, order_by=order_by, start_position=start, max_results=page_size
            )
            rows = self.query(statement).get(entity) or []
            _guard_repeat(rows, seen_first_ids, entity)
            for row in rows:
                yield _validate(model, row, entity)
            if len(rows) < page_size:
                return
            start += page_size
        raise Permanent(f"QuickBooks kept returning full pages of {entity}; stopped.", code="pagination_loop")

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> dict[str, list[dict[str, Any]]]:
        """Change data capture: one metered read for all `entities` (docs/qbo-facts.md, "Drift").

        Returns each entity's changed objects as raw dicts; deleted ones carry ``status: "Deleted"``.
        """
        since = changed_since.isoformat(timespec="seconds")
        body = self._call("GET", "/cdc", params={"entities": ",".join(entities), "changedSince": since})
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in entities}
        try:
            blocks = body["CDCResponse"][0]["QueryResponse"]
        except (KeyError, IndexError, TypeError):
            raise Permanent(
                "QuickBooks answered CDC without a CDCResponse.", code="malformed_response"
            ) from None
        for block in blocks if isinstance(blocks, list) else []:
            for name in entities:
                rows = block.get(name) if isinstance(block, dict) else None
                if isinstance(rows, list):
                    out[name].extend(r for r in rows if isinstance(r, dict) and r.get("Id"))
        return out

    # ---- writes (each carries a requestid; retries reuse it, §2) ----------------------------

    def create(
        self, entity: str, body: Mapping[str, Any] | Entity, *, request_id: str | None = None
    ) -> Entity:
        result = self._call(
            "POST", f"/{_segment(entity)}", json_body=_body(body), request_id=_rid(request_id)
        )
        return _entity(entity, result)

    def update(
        self,
        entity: str,
        body: Mapping[str, Any] | Entity,
        *,
        request_id: str | None = None,
        sparse: bool = True,
    ) -> Entity:
        """Sparse by default; ``sparse=False`` replaces the object (omitted fields are cleared, §3)."""
        payload = _body(body)
        if not payload.get("Id") or payload.get("SyncToken") is None:
            raise ValueError(f"updating a {entity} needs Id and SyncToken")
        payload["sparse"] = sparse  # a body field, not a query param (§3)
        result = self._call("POST", f"/{_segment(entity)}", json_body=payload, request_id=_rid(request_id))
        return _entity(entity, result)

    def delete(self, entity: str, id: str, sync_token: str, *, request_id: str | None = None) -> Entity:
        result = self._call(
            "POST",
            f"/{_segment(entity)}",
            params={"operation": "delete"},
            json_body={"Id": _id(id), "SyncToken": sync_token},
            request_id=_rid(request_id),
        )
        return _entity(entity, result)

    def batch(
        self, items: Sequence[Mapping[str, Any]], *, request_id: str | None = None
    ) -> list[BatchItemResult | QBOFault]:
        """Send up to 30 items; results come back in the order of ``items`` (matched by bId, §7)."""
        request_items = _batch_items(items)
        rid = _rid(request_id)
        if len(rid) > 36:
            raise ValueError("a batch requestid is limited to 36 characters")
        body = self._call("POST", "/batch", json_body={"BatchItemRequest": request_items}, request_id=rid)
        responses = body.get("BatchItemResponse")
        if not isinstance(responses, list):
            raise Permanent(
                "QuickBooks answered a batch without BatchItemResponse.", code="malformed_response"
            )
        by_bid = {r.get("bId"): r for r in responses if isinstance(r, dict)}
        return [_batch_result(item["bId"], by_bid.get(item["bId"])) for item in request_items]

    # ---- file upload (docs/qbo-facts.md "Invoice files") --------------------------------------

    def upload(
        self,
        *,
        file_name: str,
        content_type: str,
        entity: str,
        entity_id: str,
        note: str,
        chunks: Iterable[bytes],
        size: int | None = None,
    ) -> Entity:
        """Upload one file and link it to ``entity`` ``entity_id`` in one multipart request.

        ``chunks`` is streamed into the request body as it is read, so a file is never whole in
        memory; ``size`` (when known) becomes a Content-Length, otherwise the body is chunked. Sent
        once, never retried here: a stream cannot be replayed, and whether a failed upload landed
        is settled by the caller's lookup (connector/sync/attachments.py).
        """
        boundary = uuid.uuid4().hex
        metadata = {
            "AttachableRef": [
                {"EntityRef": {"type": entity, "value": _id(entity_id)}, "IncludeOnSend": False}
            ],
            "FileName": file_name,
            "ContentType": _header_value(content_type),
            "Note": note,
        }
        head = (
            _part_header(boundary, 'name="file_metadata_01"', "application/json")
            + _dumps(metadata)
            + b"\r\n"
            + _part_header(
                boundary,
                f'name="file_content_01"; filename="{_header_value(file_name).replace(chr(34), "%22")}"',
                _header_value(content_type),
            )
        )
        tail = f"\r\n--{boundary}--\r\n".encode()
        headers = {
            "Authorization": f"Bearer {self._token_provider(False)}",
            "Accept": "application/json",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        if size is not None:
            headers["Content-Length"] = str(len(head) + size + len(tail))
        own_pause, self._paused_by_me = self._paused_by_me, False
        wait = self.governor.reserve(self.realm_id, batch=False, own_pause=own_pause)
        if wait > 0:
            self._sleep(wait)
        slot = hold_slot(self.governor, self.realm_id)
        try:
            response = self._http.post(
                self.company_url + "/upload",
                params={"minorversion": str(self.minorversion)},
                content=itertools.chain((head,), chunks, (tail,)),
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise network_error(exc, "QuickBooks") from exc
        finally:
            self.governor.leave(self.realm_id, slot)
        answers = self.classify(response).get("AttachableResponse")
        first = answers[0] if isinstance(answers, list) and answers else None
        if not isinstance(first, dict):
            raise Permanent("QuickBooks answered an upload without an Attachable.", code="malformed_response")
        raw_fault = first.get("Fault", first.get("fault"))
        if raw_fault:
            raise _fault(raw_fault, response.status_code, response.headers.get("intuit_tid"))
        return _entity("Attachable", first)

    # ---- one call: token, one refresh on 401, classification, retries ----------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        full_params = {**(params or {}), "minorversion": str(self.minorversion)}
        if request_id is not None:
            full_params["requestid"] = request_id
        content = _dumps(json_body) if json_body is not None else None
        url = self.company_url + path
        return send_with_retries(
            self._http,
            lambda _http: self._call_once(method, url, full_params, content),
            max_attempts=self._max_attempts,
            sleep=self._sleep,
            max_delay=self._max_delay,
            service="QuickBooks",
        )

    def _call_once(
        self, method: str, url: str, params: dict[str, str], content: bytes | None
    ) -> dict[str, Any]:
        response = self._send(method, url, params, content, self._token_provider(False))
        if response.status_code == 401:
            # Expired/revoked access token: refresh once, retry once with the SAME requestid (§2, §5).
            response = self._send(method, url, params, content, self._token_provider(True))
        try:
            body = self.classify(response)
        except Retryable as exc:
            if exc.code == "qbo_throttled":  # every process stops sending to this company (§9)
                self.governor.pause(self.realm_id, exc.retry_after or self._throttle_wait)
                self._paused_by_me = True  # our retry back-off waits the same Retry-After
            raise
        kind = metered_kind(method, url)
        if kind is not None and self.on_metered is not None:
            self.on_metered(kind)
        return body

    def _send(
        self, method: str, url: str, params: dict[str, str], content: bytes | None, token: str
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        batch = url.endswith("/batch")
        own_pause, self._paused_by_me = self._paused_by_me, False
        wait = self.governor.reserve(self.realm_id, batch=batch, own_pause=own_pause)
        if wait > 0:
            self._sleep(wait)
        slot = hold_slot(self.governor, self.realm_id)
        try:
            response = self._http.request(method, url, params=params, content=content, headers=headers)
        finally:
            self.governor.leave(self.realm_id, slot)
        return response

    def classify(self, response: httpx.Response) -> dict[str, Any]:
        """THE place that turns a QBO response into a body or one of our errors (§5 retry policy)."""
        status = response.status_code
        body = _parse_body(response)
        raw_fault = body.get("Fault", body.get("fault")) if isinstance(body, dict) else None
        fault = _fault(raw_fault, status, response.headers.get("intuit_tid")) if raw_fault else None
        codes = fault.codes() if fault else set()
        if retry_rules.is_throttled(status) or (fault is not None and fault.is_throttled()):
            raise Retryable(
                "QuickBooks asked us to slow down (too many requests).",
                retry_after=retry_rules.throttle_wait(response, self._clock, self._throttle_wait),
                code="qbo_throttled",
                status=status,
            )
        if retry_rules.is_transient(status) or "10000" in codes:  # 429 was answered just above
            raise Retryable(
                f"QuickBooks had an internal problem (HTTP {status}).",
                retry_after=retry_rules.retry_after(response, self._clock),
                code="qbo_unavailable",
                detail=fault.errors if fault else None,
                status=status,
            )
        if status == 401 or (status == 403 and "3100" in codes):
            raise ReauthRequired(
                "QuickBooks no longer accepts this connection (access was revoked or the app lost "
                "permission). Reconnect QuickBooks on the Connections page.",
                code="qbo_unauthorized",
                detail=fault.errors if fault else None,
                status=status,
            )
        if fault is not None:  # includes a Fault inside an HTTP 200 (§5)
            raise fault
        if status >= 400:
            raise QBOFault([], status=status, intuit_tid=response.headers.get("intuit_tid"))
        if not isinstance(body, dict):
            raise Permanent(
                f"QuickBooks answered with something that is not JSON (HTTP {status}).",
                code="malformed_response",
                status=status,
            )
        return body


# ---- helpers ------------------------------------------------------------------------------


def metered_kind(method: str, url: str) -> str | None:
    """Which metered kind a successful call is, or None for a write Intuit does not meter."""
    path = httpx.URL(url).path
    if path.endswith("/batch"):
        return "batches"
    if method != "GET":
        return None
    if path.endswith("/query"):
        return "queries"
    if path.endswith("/cdc"):
        return "cdc"
    return "reads"


def _rid(request_id: str | None) -> str:
    rid = request_id or uuid.uuid4().hex
    if len(rid) > 50:  # §2: requestid max 50 characters
        raise ValueError("a requestid is limited to 50 characters")
    return rid


def _part_header(boundary: str, disposition: str, content_type: str) -> bytes:
    lines = [
        f"--{boundary}",
        f"Content-Disposition: form-data; {disposition}",
        f"Content-Type: {content_type}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _header_value(value: str) -> str:
    # A file name comes from a supplier: no line breaks may reach the multipart headers.
    return " ".join(str(value).split())


def _segment(entity: str) -> str:
    # Entity path segments are lower-case (§2); the name itself is validated like a query identifier.
    return q.identifier(entity).lower()


def _id(value: str) -> str:
    text = str(value)
    if not text or not text.isalnum():
        raise ValueError(f"not a QuickBooks id: {value!r}")
    return text


def _body(body: Mapping[str, Any] | Entity) -> dict[str, Any]:
    return body.body() if isinstance(body, Entity) else dict(body)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        _sign, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):  # NaN or Infinity: no JSON number
            raise ValueError(f"{value} is not a number QuickBooks can take")
        # QBO wants JSON numbers; float() is exact for money's ≤15 significant digits.
        if len(digits) > 15:
            raise ValueError(f"{value} has more precision than a JSON number can carry safely")
        return int(value) if value == value.to_integral_value() and exponent >= 0 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} to QuickBooks")


def _dumps(body: Any) -> bytes:
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode()


def _parse_body(response: httpx.Response) -> Any:
    """JSON with Decimal amounts, or a Fault read out of XML; None when neither."""
    text = response.text
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return _parse_xml_fault(stripped)
    try:
        return json.loads(text, parse_float=Decimal) if stripped else None
    except ValueError:
        return None


def _parse_xml_fault(text: str) -> dict[str, Any] | None:
    upper = text[:2000].upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        return None  # never expand entities from a remote body
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 - DTDs refused above; only Fault fields read
    except ElementTree.ParseError:
        return None
    for node in root.iter():
        if _local(node.tag).lower() == "fault":
            errors = [_xml_error(e) for e in node if _local(e.tag).lower() == "error"]
            return {"Fault": {"type": node.get("type"), "Error": errors}}
    return None


def _xml_error(node: ElementTree.Element) -> dict[str, str]:
    children = {_local(c.tag).lower(): (c.text or "").strip() for c in node}
    return {
        "code": node.get("code", ""),
        "element": node.get("element", ""),
        "Message": children.get("message", ""),
        "Detail": children.get("detail", ""),
    }


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fault(raw: Any, status: int | None, intuit_tid: str | None) -> QBOFault:
    parsed = Fault.from_raw(raw)
    errors: list[FaultError] = [e.to_error() for e in parsed.Error]
    return QBOFault(errors, fault_type=parsed.type, status=status, intuit_tid=intuit_tid)


def _validate(model: type[Entity], raw: Any, entity: str) -> Entity:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise Permanent(
            f"QuickBooks returned a {entity} we could not read: {exc.errors()[0]['msg']}",
            code="malformed_response",
        ) from exc


def _entity(entity: str, body: dict[str, Any]) -> Entity:
    if entity not in body:
        raise Permanent(f"QuickBooks' answer did not contain a {entity}.", code="malformed_response")
    return _validate(entity_model(entity), body[entity], entity)


def _guard_repeat(rows: list[Any], seen_first_ids: set[str], entity: str) -> None:
    if not rows or not isinstance(rows[0], dict):
        return
    first = str(rows[0].get("Id"))
    if first in seen_first_ids:
        raise Permanent(
            f"QuickBooks returned the same page of {entity} twice; stopped.", code="pagination_loop"
        )
    seen_first_ids.add(first)


def _batch_items(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not items:
        raise ValueError("a batch needs at least one item")
    if len(items) > MAX_BATCH_ITEMS:
        raise ValueError(f"a batch holds at most {MAX_BATCH_ITEMS} items; split it")
    out = []
    for index, item in enumerate(items, start=1):
        entry = {k: (v.body() if isinstance(v, Entity) else v) for k, v in item.items()}
        entry.setdefault("bId", f"b{index}")
        if len(str(entry["bId"])) > 10:  # §2: bId ≤ 10 chars when a requestid is sent
            raise ValueError(f"batch bId {entry['bId']!r} is longer than 10 characters")
        out.append(entry)
    if len({e["bId"] for e in out}) != len(out):
        raise ValueError("batch bIds must be unique")
    return out


def _batch_result(bid: str, response: dict[str, Any] | None) -> BatchItemResult | QBOFault:
    if response is None:
        return QBOFault([FaultError(code="", message="QuickBooks returned no result for this batch item")])
    raw_fault = response.get("Fault", response.get("fault"))
    if raw_fault:
        return _fault(raw_fault, None, None)
    keys = [k for k in response if k != "bId"]
    if not keys:
        return QBOFault([FaultError(code="", message="QuickBooks returned an empty batch item")])
    name = keys[0]
    data = response[name]
    if name != "QueryResponse" and isinstance(data, dict):
        data = _validate(entity_model(name), data, name)
    return BatchItemResult(bid=bid, entity=name, data=data)
