"""'What would the next sync do?': the real pipeline, read-only.

How nothing changes anywhere:
- QuickBooks: the run gets a ``ReadOnlyQBO``, the same client whose last step (``_send``) answers every
  non-GET request itself, before it leaves, with what QuickBooks would answer (the object with an Id and
  SyncToken), and records it. Every write path (single, batch, update, delete, ones added later) goes
  through ``_send``, so none can slip past. Reads (queries, company settings) go to QuickBooks as usual.
- Procurify: only ever read.
- Our database: the whole run (its SyncRun, links, cursors, holds, audit, mappings, summaries) happens
  inside one transaction that is always rolled back. A flag threaded through every module would have to
  be remembered by every future step; a rollback cannot be forgotten. Tokens must survive it: both are
  made fresh before the transaction opens and kept in memory, and a refresh during the preview is saved
  on its own short-lived database connection (QuickBooks rotates the refresh token on every refresh;
  rolling the new one back would disconnect the organisation).

While a preview runs its (uncommitted) SyncRun occupies the one-active-run slot, so a real run that
starts meanwhile waits for the preview to end rather than racing it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from django.core.cache import cache
from django.db import connections, transaction
from django.utils import timezone

from connector.client_factory import ClientFactory
from connector.errors import ConnectorError, Retryable
from connector.kinds import BY_QBO_ENTITY, RecordKind
from connector.models import AuditEvent, DocumentSummary, HeldRecord, SyncRun
from connector.procurify.auth import AccessToken
from connector.qbo.client import QBOClient
from connector.qbo.schemas import Entity, entity_model
from connector.sync import engine, runs
from mappings.models import BooksProfile, QBOVendor
from tenants.models import Organisation

CREATE, UPDATE, DELETE, HOLD = "create", "update", "delete", "hold"
ACTION_TITLES = {CREATE: "Would create", UPDATE: "Would update", DELETE: "Would delete", HOLD: "Would hold"}
SEGMENTS = {
    "bill": "Bill",
    "purchaseorder": "PurchaseOrder",
    "vendor": "Vendor",
    "billpayment": "BillPayment",
    "vendorcredit": "VendorCredit",
}
MARKER = re.compile(r"procurify:(bill|po|payment|attachment):([0-9A-Za-z:-]+)")
FAKE_ID_BASE = 9_000_000_000  # answered Ids: numeric like QuickBooks', far above any real one in a test
T = TypeVar("T")


class PreviewBusy(Exception):
    """The organisation has a sync queued or running; a preview would only describe a moving target."""


@dataclass(frozen=True)
class Write:
    """One request the run tried to send QuickBooks."""

    action: str  # create | update | delete
    entity: str
    body: Mapping[str, Any]
    answered_id: str = ""  # the Id a create was answered with (bills of a vendor created in the run)


@dataclass(frozen=True)
class PreviewItem:
    kind: str  # bill | purchase_order | vendor | payment
    procurify_id: str
    document: str
    vendor: str
    amount: Decimal | None
    currency: str
    action: str  # create | update | delete | hold
    reason: str = ""
    reason_code: str = ""

    @property
    def action_title(self) -> str:
        return ACTION_TITLES[self.action]


@dataclass
class Preview:
    items: list[PreviewItem] = field(default_factory=list)
    error: str = ""  # the sentence the real run would have failed with
    qbo_reads: int = 0
    finished_at: datetime | None = None

    def totals(self) -> list[dict[str, Any]]:
        """Count and amount per action and currency (amounts never added across currencies)."""
        sums: dict[tuple[str, str], list[Any]] = {}
        for item in self.items:
            row = sums.setdefault((item.action, item.currency), [0, Decimal(0)])
            row[0] += 1
            row[1] += item.amount or Decimal(0)
        order = list(ACTION_TITLES)
        return [
            {"action": ACTION_TITLES[a], "currency": c, "count": n, "amount": amount}
            for (a, c), (n, amount) in sorted(sums.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1]))
        ]


# ---- the read-only QuickBooks client --------------------------------------------------------------


class WriteRecorder:
    """Answers writes the way QuickBooks would, and remembers them."""

    def __init__(self) -> None:
        self.writes: list[Write] = []
        self.reads = 0
        self._next = FAKE_ID_BASE

    def answer(self, segment: str, params: Mapping[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if segment == "batch":
            out = []
            for item in body.get("BatchItemRequest") or []:
                entity = next(k for k in item if k in BY_QBO_ENTITY)
                operation = item.get("operation") or CREATE
                out.append({"bId": item.get("bId"), entity: self._one(entity, operation, item[entity])})
            return {"BatchItemResponse": out}
        entity = SEGMENTS.get(segment)
        if entity is None:  # nothing unknown leaves either; the run fails with this sentence instead
            raise ValueError(f"The preview cannot simulate a QuickBooks write to '{segment}'.")
        operation = DELETE if params.get("operation") == "delete" else (UPDATE if body.get("Id") else CREATE)
        return {entity: self._one(entity, operation, body)}

    def answer_one(self, entity: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._one(entity, operation, body)

    def _one(self, entity: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._answer(operation, body)
        self.writes.append(Write(operation, entity, body, str(answer.get("Id") or "")))
        return answer

    def _answer(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        if operation == DELETE:
            return {"Id": body["Id"], "status": "Deleted", "domain": "QBO"}
        answer = {k: v for k, v in body.items() if k != "sparse"}
        if operation == CREATE:
            self._next += 1
            answer.update(Id=str(self._next), SyncToken="0", domain="QBO")
            # Line Ids as QuickBooks numbers them: a bill links to a purchase order's line by its Id.
            answer["Line"] = [{"Id": str(n), **line} for n, line in enumerate(body.get("Line") or [], 1)]
        else:
            answer["SyncToken"] = str(int(str(body.get("SyncToken") or 0)) + 1)
        if "Line" in body:
            answer["TotalAmt"] = str(line_total(body))
        return answer


class ReadOnlyQBO(QBOClient):
    """A QBOClient whose writes never leave: see the module docstring."""

    recorder: WriteRecorder

    @classmethod
    def wrapping(cls, client: QBOClient) -> ReadOnlyQBO:
        clone = cls.__new__(cls)
        clone.__dict__.update(client.__dict__)
        clone.recorder = WriteRecorder()
        clone._token_provider = PreviewTokens(client._token_provider)
        return clone

    def _send(
        self, method: str, url: str, params: dict[str, str], content: bytes | None, token: str
    ) -> httpx.Response:
        if method == "GET":
            self.recorder.reads += 1
            return super()._send(method, url, params, content, token)
        body = json.loads(content, parse_float=Decimal) if content else {}
        segment = url[len(self.company_url) :].strip("/").lower()
        answer = self.recorder.answer(segment, params, body)
        request = httpx.Request(method, url, params=params)
        return httpx.Response(200, content=json.dumps(answer, default=str).encode(), request=request)

    def upload(  # same keywords; the file's bytes are never read
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
        """An upload is a write too, and it does not go through ``_send``: answered and recorded here."""
        body = {
            "FileName": file_name,
            "ContentType": content_type,
            "Note": note,
            "AttachableRef": [{"EntityRef": {"type": entity, "value": entity_id}}],
        }
        answer = self.recorder.answer_one("Attachable", CREATE, body)
        return entity_model("Attachable").model_validate(answer)


def own_connection(fn: Callable[..., T]) -> Callable[..., T]:
    """Run ``fn`` on a short-lived thread: its own database connection, committed at once, outside the
    preview's transaction (QuickBooks' rotating refresh token must never be rolled back)."""

    def call(*args: Any) -> T:
        result: dict[str, Any] = {}

        def target() -> None:
            try:
                result["value"] = fn(*args)
            except BaseException as exc:  # re-raised on the caller's thread
                result["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=target, name="preview-token")
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]
        return result["value"]

    return call


class PreviewTokens:
    """QuickBooks' access token for the preview: fetched once before the transaction opens; a refresh
    (after a 401, or an expiry during a long preview) runs on its own connection, committed at once."""

    def __init__(self, provider: Callable[[bool], str]) -> None:
        self.provider = provider
        self.token = provider(False)

    def __call__(self, force_refresh: bool) -> str:
        if force_refresh:
            self.token = own_connection(self.provider)(True)
        return self.token


class PreviewTokenStore:
    """Procurify's token store for the preview: loaded once before the transaction opens, kept in memory
    (read-ahead threads read it too), a renewed token saved on its own connection."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.token: AccessToken | None = inner.load()

    def load(self) -> AccessToken | None:
        return self.token

    def save(self, token: AccessToken) -> None:
        self.token = token
        own_connection(self.inner.save)(token)


# ---- the preview ----------------------------------------------------------------------------------


def preview_next_sync(
    organisation: Organisation,
    clients: ClientFactory,
    *,
    clock: Callable[[], datetime] = timezone.now,
) -> Preview:
    """Run every step of the next sync against both systems with nothing written anywhere.

    Raises PreviewBusy when a sync is queued or running (clients.NotConnected when not connected).
    """
    if SyncRun.objects.for_org(organisation).active().exists():
        raise PreviewBusy("A sync is queued or running; preview again when it has finished.")
    procurify, qbo = clients.procurify(organisation), clients.qbo(organisation)
    # Tokens are made fresh here, before the transaction opens (and kept in memory): a token written
    # inside it would be rolled back, and on SQLite (the demo) another connection would wait on its lock.
    procurify._valid_token()
    procurify._tokens = PreviewTokenStore(procurify._tokens)
    read_only = ReadOnlyQBO.wrapping(qbo)
    preview = Preview()
    with transaction.atomic():
        try:
            watermark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            queued = runs.enqueue_run(organisation, SyncRun.Trigger.MANUAL)
            if queued is None:
                raise PreviewBusy("A sync is queued or running; preview again when it has finished.")
            run = engine.run_pipeline(
                queued.pk, procurify=procurify, qbo=read_only, clock=clock, sleep=_no_pause
            )
            preview.error = run.error if run.status == SyncRun.Status.FAILED else ""
            preview.items = _items(organisation, read_only.recorder.writes, watermark)
        finally:
            transaction.set_rollback(True)  # the whole point: nothing of the run is kept
    preview.qbo_reads = read_only.recorder.reads
    preview.finished_at = timezone.now()
    return preview


def _no_pause(seconds: float) -> None:
    """A throttled real run pauses a minute and carries on; a person waiting on a preview is told instead."""
    raise Retryable(
        "QuickBooks asked us to slow down, so the preview stopped. Try again in a minute.",
        code="qbo_throttled",
    )


def _items(organisation: Organisation, writes: list[Write], watermark: int) -> list[PreviewItem]:
    """What the run wrote (from the recorder) and held (from its audit rows), read before the rollback."""
    profile = BooksProfile.objects.filter(organisation=organisation).first()
    home = profile.qbo_home_currency if profile else ""
    vendors = dict(QBOVendor.objects.filter(organisation=organisation).values_list("qbo_id", "display_name"))
    for write in writes:  # bills of a vendor created in this run name it by the Id it was answered
        if write.entity == "Vendor" and write.answered_id:
            vendors[write.answered_id] = str(write.body.get("DisplayName"))
    return [describe_write(write, vendors, home) for write in writes] + _holds(organisation, watermark)


def describe_write(write: Write, vendor_names: Mapping[str, str], home_currency: str) -> PreviewItem:
    """One write as a finance user reads it: document, vendor, amount and currency. Also used by the
    tests on the requests a real run sent, so both sides are described by the same rules."""
    body = write.body
    marker = MARKER.search(str(body.get("PrivateNote") or body.get("Note") or ""))  # Note: an Attachable
    vendor_id = str((body.get("VendorRef") or {}).get("value") or "")
    if write.entity == "Vendor":
        document = str(body.get("DisplayName") or body.get("Id") or "")
        currency = _currency(body, home_currency)
        return PreviewItem(RecordKind.VENDOR.value, "", document, document, None, currency, write.action)
    amount = line_total(body) if "Line" in body else None
    return PreviewItem(
        kind=kind.value if (kind := BY_QBO_ENTITY.get(write.entity)) else write.entity,
        procurify_id=marker.group(2) if marker else "",
        document=str(body.get("DocNumber") or body.get("FileName") or body.get("Id") or ""),
        vendor=vendor_names.get(vendor_id, vendor_id),
        amount=amount,
        currency=_currency(body, home_currency),
        action=write.action,
    )


def _currency(body: Mapping[str, Any], home_currency: str) -> str:
    # Without CurrencyRef QuickBooks books the home currency (docs/qbo-facts.md, Currencies).
    return str((body.get("CurrencyRef") or {}).get("value") or home_currency)


def _holds(organisation: Organisation, watermark: int) -> list[PreviewItem]:
    holds = AuditEvent.objects.filter(organisation=organisation, kind=AuditEvent.Kind.HOLD, id__gt=watermark)
    events = list(holds.order_by("id"))
    ids = {e.procurify_id for e in events}
    mine = {"organisation": organisation, "procurify_id__in": ids}
    bills = DocumentSummary.objects.filter(object_type=RecordKind.BILL, **mine)
    snapshots = {s.procurify_id: s for s in bills}
    labels = dict(HeldRecord.objects.filter(**mine).values_list("procurify_id", "label"))
    out = []
    for event in events:
        snap = snapshots.get(event.procurify_id) if event.object_type == RecordKind.BILL else None
        out.append(
            PreviewItem(
                kind=event.object_type,
                procurify_id=event.procurify_id,
                document=snap.number if snap else labels.get(event.procurify_id, event.procurify_id),
                vendor=snap.vendor_name if snap else "",
                amount=cents(snap.total) if snap and snap.total is not None else None,
                currency=snap.currency if snap else "",
                action=HOLD,
                reason=event.message,
                reason_code=str((event.data or {}).get("reason_code") or ""),
            )
        )
    return out


def cents(value: Decimal) -> Decimal:
    """Two places when that is exact (a snapshot keeps four); never rounded."""
    quantized = value.quantize(Decimal("0.01"))
    return quantized if quantized == value else value


def line_total(body: Mapping[str, Any]) -> Decimal:
    """The object's total as QuickBooks computes it: the sum of its lines (a subtotal line excluded)."""
    return sum(
        (
            Decimal(str(line.get("Amount") or 0))
            for line in body.get("Line") or []
            if line.get("DetailType") != "SubTotalLineDetail"
        ),
        Decimal(0),
    )


# ---- the result, kept for the page (the Celery task runs the preview) ------------------------------

RESULT_SECONDS = 24 * 3600
RUNNING, DONE, FAILED = "running", "done", "failed"


def _result_key(organisation: Organisation) -> str:
    return f"preview-result:{organisation.public_id}"


def store(organisation: Organisation, state: str, preview: Preview | None = None, error: str = "") -> None:
    """What the preview page shows: running, done (with the list) or failed (with a sentence)."""
    value: dict[str, Any] = {"state": state, "error": error, "at": timezone.now().isoformat()}
    if preview is not None:
        value.update(
            run_error=preview.error,
            qbo_reads=preview.qbo_reads,
            items=[
                {**item.__dict__, "amount": None if item.amount is None else str(item.amount)}
                for item in preview.items
            ],
        )
    cache.set(_result_key(organisation), value, timeout=RESULT_SECONDS)


def stored(organisation: Organisation) -> tuple[dict[str, Any] | None, Preview | None]:
    """(state row, Preview) of the last preview, or (None, None)."""
    value = cache.get(_result_key(organisation))
    if not value:
        return None, None
    value["at_time"] = datetime.fromisoformat(value["at"])  # shown in the one date-time format
    if value["state"] != DONE:
        return value, None
    items = [
        PreviewItem(**{**item, "amount": None if item["amount"] is None else Decimal(item["amount"])})
        for item in value.get("items", [])
    ]
    return value, Preview(items=items, error=value.get("run_error", ""), qbo_reads=value.get("qbo_reads", 0))


def run_and_store(organisation: Organisation, clients: ClientFactory) -> str:
    """The Celery task's body: run the preview and keep its result (or why it could not run)."""
    try:
        preview = preview_next_sync(organisation, clients)
    except PreviewBusy as exc:
        store(organisation, FAILED, error=str(exc))
        return FAILED
    except ConnectorError as exc:
        store(organisation, FAILED, error=exc.message)
        return FAILED
    store(organisation, DONE, preview)
    mark_seen(organisation)
    return DONE


# ---- the onboarding checklist's "preview before the first write" -----------------------------------

SEEN_SECONDS = 30 * 24 * 3600


def mark_seen(organisation: Organisation) -> None:
    """A person looked at a preview (kept in the cache: the preview itself leaves no database row)."""
    cache.set(f"preview-seen:{organisation.public_id}", True, timeout=SEEN_SECONDS)


def seen(organisation: Organisation) -> bool:
    return bool(cache.get(f"preview-seen:{organisation.public_id}"))
