"""The supplier's invoice files follow their bill into QuickBooks (issue 15).

When the bills step reads a bill, each file in its `invoice_attachments` gets an ``ExternalRecord``
(object_type "attachment", key "<bill uuid>:<file id>") in state CREATING. The attachments step, after
the bills step, uploads every such file whose bill is in QuickBooks: streamed from Procurify's download
link straight into QuickBooks' multipart upload, never whole in memory. Exactly once per (bill, file):
the row is marked "sent" before the upload, so after an unknown outcome (a crash, a lost answer) the
Attachables linked to the bill are searched for our marker in their Note before anything is sent again.

A file QuickBooks cannot take (type, size) or refuses is held on its own; its bill stays synced.
Facts relied on: docs/qbo-facts.md "Invoice files", docs/procurify-facts.md "Invoice files".
"""

from __future__ import annotations

import mimetypes
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from django.db import IntegrityError, transaction
from django.utils import timezone

from connector.errors import Permanent, QBOFault, Retryable
from connector.hold_reasons import Retry, retry_of
from connector.kinds import RecordKind
from connector.models import ExternalRecord, HeldRecord
from connector.netguard import BlockedAddress
from connector.procurify.schemas import Bill
from connector.qbo import query as q
from connector.qbo.schemas import Entity
from connector.sync import holds, runs
from connector.sync.audit import RecordAudit
from connector.sync.context import Context, hold_record
from connector.sync.transform import Held
from tenants.models import Organisation

# QuickBooks' 17 file types (docs/qbo-facts.md); anything else is refused with 6041.
ALLOWED_EXTENSIONS = frozenset(
    {"ai", "csv", "doc", "docx", "eps", "gif", "jpeg", "jpg", "ods", "pdf", "png", "rtf", "tif", "txt"}
    | {"xls", "xlsx", "xml"}
)
# QuickBooks takes 100 MB per upload request; the multipart framing and metadata need a little room.
MAX_BYTES = 100 * 1024 * 1024 - 64 * 1024
CHUNK_BYTES = 64 * 1024
NOTE_LIMIT = 2000  # Attachable.Note, QBO §14
BEAT_SECONDS = 5.0


@dataclass(frozen=True)
class InvoiceFile:
    """One entry of a bill's `invoice_attachments`, read leniently (docs/procurify-facts.md)."""

    bill_uuid: str
    file_id: str
    name: str
    content_type: str
    size: int | None
    url: str

    @property
    def key(self) -> str:
        return attachment_key(self.bill_uuid, self.file_id)


def attachment_key(bill_uuid: str, file_id: str) -> str:
    return f"{bill_uuid}:{file_id}"


def marker(key: str) -> str:
    """Written into the Attachable's Note: how an upload whose answer was lost is found again."""
    return f"procurify:attachment:{key}"


# ---- reading: the bills step notes each bill's files -----------------------------------------------


def note_bill(ctx: Context, uuid: str, bill: Bill) -> None:
    """Remember this bill's files (links for this run; a CREATING row for each file not seen before)."""
    entries = bill.invoice_attachments or []
    if not entries:
        return
    files: list[InvoiceFile] = []
    for index, entry in enumerate(entries):
        parsed = parse_entry(uuid, entry)
        if parsed is None:
            _hold_unreadable(ctx, uuid, index, entry)
            continue
        files.append(parsed)
    known = dict(
        ExternalRecord.objects.filter(
            organisation=ctx.organisation,
            object_type=RecordKind.ATTACHMENT,
            procurify_id__in=[f.key for f in files],
        ).values_list("procurify_id", "state")
    )
    for found in files:
        if known.get(found.key) == ExternalRecord.State.SYNCED:
            continue  # attached already: its link is not needed (memory stays flat with volume)
        ctx.files[found.key] = found
        if found.key in known:
            continue
        try:
            with transaction.atomic():
                ExternalRecord.objects.create(
                    organisation=ctx.organisation,
                    object_type=RecordKind.ATTACHMENT,
                    procurify_id=found.key,
                    label=found.name[:200],
                    qbo_entity="Attachable",
                    realm_id=ctx.qbo.realm_id,
                    state=ExternalRecord.State.CREATING,
                    extra=_file_facts(found),
                )
        except IntegrityError:
            continue  # noted by an earlier read of the same bill
        ctx.audit.record(
            "read",
            f"Invoice file {found.name} found on the bill in Procurify.",
            object_type=RecordKind.ATTACHMENT,
            procurify_id=found.key,
            data={"bill": uuid, "size": found.size, "content_type": found.content_type},
        )


def parse_entry(bill_uuid: str, entry: Any) -> InvoiceFile | None:
    if not isinstance(entry, dict):
        return None
    file_id = entry.get("id")
    name = entry.get("name") or entry.get("file_name") or entry.get("filename")
    url = entry.get("url") or entry.get("download_url") or entry.get("file")
    if file_id in (None, "") or not isinstance(name, str) or not name.strip() or not isinstance(url, str):
        return None
    if not str(file_id).isalnum():
        return None
    size = entry.get("size", entry.get("file_size"))
    try:
        size = int(size) if size is not None else None
    except (TypeError, ValueError):
        size = None
    content_type = entry.get("content_type") or entry.get("mime_type") or ""
    return InvoiceFile(bill_uuid, str(file_id), name.strip(), str(content_type), size, url)


def _file_facts(found: InvoiceFile) -> dict[str, Any]:
    return {
        "bill": found.bill_uuid,
        "file_id": found.file_id,
        "file_name": found.name,
        "content_type": found.content_type,
        "size": found.size,
        "sent": False,
    }


def _hold_unreadable(ctx: Context, uuid: str, index: int, entry: Any) -> None:
    key = attachment_key(uuid, f"entry{index}")
    error = "an invoice file entry without an id, a name or a download link"
    held = Held("malformed_record", record=f"an invoice file of bill {uuid}", error=error)
    hold_record(ctx, RecordKind.ATTACHMENT, key, held, f"Invoice file {index + 1} of Procurify bill {uuid}")


# ---- the step -------------------------------------------------------------------------------------


def sync_attachments(ctx: Context) -> None:
    """Upload every noted file whose bill is in QuickBooks and that is not uploaded or held."""
    rows = list(
        ExternalRecord.objects.filter(
            organisation=ctx.organisation,
            object_type=RecordKind.ATTACHMENT,
            state=ExternalRecord.State.CREATING,
        ).order_by("id")
    )
    if not rows:
        return
    held = {
        h.procurify_id: h
        for h in HeldRecord.objects.filter(
            organisation=ctx.organisation,
            object_type=RecordKind.ATTACHMENT,
            procurify_id__in=[r.procurify_id for r in rows],
        )
    }
    bills = {
        b.procurify_id: b
        for b in ExternalRecord.objects.filter(
            organisation=ctx.organisation,
            object_type=RecordKind.BILL,
            procurify_id__in={(r.extra or {}).get("bill") for r in rows},
            state=ExternalRecord.State.SYNCED,
        ).exclude(qbo_id="")
    }
    counts = ctx.counts.setdefault("attachments", Counter())
    last_beat = timezone.now()
    for row in rows:
        bill = bills.get((row.extra or {}).get("bill", ""))
        if bill is None or bill.realm_id != ctx.qbo.realm_id or not _due(held.get(row.procurify_id)):
            continue  # waits for its bill, or for a person
        counts[attach(ctx, row, bill)] += 1
        if ctx.run and timezone.now() - last_beat >= timedelta(seconds=BEAT_SECONDS):
            last_beat = timezone.now()
            runs.beat(ctx.run, ctx.clock())


def _due(hold: HeldRecord | None) -> bool:
    if hold is None or hold.state == HeldRecord.State.RELEASED:
        return True
    if hold.state == HeldRecord.State.RESOLVED:
        return False  # a person chose to ignore it
    retry = retry_of(hold.reason_code)
    if retry == Retry.EACH_RUN:  # Procurify had a blip: try again next run
        return True
    if retry == Retry.AFTER_COOLDOWN:  # QuickBooks refused: as for bills (holds.py)
        return hold.last_held_at <= timezone.now() - holds.QBO_SIDE_COOLDOWN
    return False  # the file itself must change (type, size, address): a new file id in Procurify


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def attach(ctx: Context, row: ExternalRecord, bill: ExternalRecord) -> str:
    """Upload one file to its bill; returns uploaded, found, not_attached, removed or upload_failed."""
    facts = row.extra or {}
    name = str(facts.get("file_name") or row.label)
    audit = ctx.audit.for_record(RecordKind.ATTACHMENT, row.procurify_id)
    label = f"{name} on {bill.label}"
    if not allowed_type(name):
        return _not_attached(ctx, row, label, Held("attachment_type_not_allowed", file=name, bill=bill.label))
    size = facts.get("size")
    if isinstance(size, int) and size > MAX_BYTES:
        return _not_attached(ctx, row, label, _too_large(name, bill.label, size))
    if facts.get("sent"):
        audit("decision", "An earlier upload did not report back; looking for it in QuickBooks first.")
        found = _lookup(ctx, row, bill, audit)
        if found is not None:
            _linked(
                ctx, row, found, audit, f"Found {name} already attached to Bill {bill.qbo_id}; adopted it."
            )
            return "found"
    try:
        link = ctx.files.get(row.procurify_id) or _fresh_link(ctx, row, audit)
    except Permanent as exc:
        if exc.status != 404:  # the bill could not be read now: the file waits, its bill is untouched
            return _not_attached(
                ctx,
                row,
                label,
                Held("attachment_unreachable", file=name, bill=bill.label, detail=exc.message),
            )
        link = None  # the bill itself is gone from Procurify (the removals sweep handles the bill)
    if link is None:
        audit("decision", "Removed from the bill in Procurify before it reached QuickBooks; not attached.")
        holds.resolve(ctx.organisation, RecordKind.ATTACHMENT, row.procurify_id)
        row.delete()
        return "removed"
    return _stream(ctx, row, bill, link, label, audit)


def _stream(
    ctx: Context, row: ExternalRecord, bill: ExternalRecord, link: InvoiceFile, label: str, audit: RecordAudit
) -> str:
    with ExitStack() as stack:
        try:
            response = stack.enter_context(ctx.procurify.download(link.url))
        except BlockedAddress as exc:
            return _not_attached(
                ctx,
                row,
                label,
                Held("attachment_address_refused", file=link.name, bill=bill.label, detail=exc.clause),
            )
        except (Permanent, Retryable) as exc:
            detail = exc.message
            return _not_attached(
                ctx,
                row,
                label,
                Held("attachment_unreachable", file=link.name, bill=bill.label, detail=detail),
            )
        length = _content_length(response)
        if length is not None and length > MAX_BYTES:
            return _not_attached(ctx, row, label, _too_large(link.name, bill.label, length))
        _mark_sent(row, True)  # committed before the upload: a crash from here on is settled by lookup
        content_type = _content_type(link)
        audit(
            "request",
            f"Upload {link.name} to Bill {bill.qbo_id}",
            {
                "file": link.name,
                "content_type": content_type,
                "size": length,
                "marker": marker(row.procurify_id),
            },
        )
        try:
            created = ctx.qbo.upload(
                file_name=link.name,
                content_type=content_type,
                entity="Bill",
                entity_id=bill.qbo_id,
                note=_note(row.procurify_id, link.name, bill.label),
                chunks=_capped(response.iter_bytes(CHUNK_BYTES), MAX_BYTES),
                size=length,
            )
        except _TooLarge as exc:  # the body was cut short: QuickBooks cannot have stored it
            _mark_sent(row, False)
            return _not_attached(ctx, row, label, _too_large(link.name, bill.label, exc.size))
        except QBOFault as fault:  # a definite refusal stored nothing
            _mark_sent(row, False)
            audit("response", "QuickBooks refused the upload.", {"fault": str(fault)})
            if "6041" in fault.codes():
                held = Held("attachment_type_not_allowed", file=link.name, bill=bill.label)
            else:
                held = Held("attachment_refused", file=link.name, bill=bill.label, detail=fault.message)
            return _not_attached(ctx, row, label, held)
        except Retryable as exc:
            if exc.code == "qbo_throttled":
                _mark_sent(row, False)  # a 429 is answered before anything is stored
                raise
            audit("error", f"The upload of {link.name} did not report back: {exc.message}")
            return "upload_failed"  # marked sent: the next run looks for it before sending again
        except Permanent as exc:
            audit("error", f"QuickBooks' answer to the upload of {link.name} was unreadable: {exc.message}")
            return "upload_failed"
    _linked(ctx, row, created, audit, f"Uploaded {link.name} and attached it to Bill {bill.qbo_id}.")
    return "uploaded"


def allowed_type(name: str) -> bool:
    return "." in name and name.rsplit(".", 1)[-1].lower() in ALLOWED_EXTENSIONS


def _too_large(name: str, bill_label: str, size: int) -> Held:
    return Held(
        "attachment_too_large", file=name, bill=bill_label, size=_megabytes(size), limit=_megabytes(MAX_BYTES)
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def _content_type(link: InvoiceFile) -> str:
    declared = link.content_type.split(";")[0].strip()
    if declared and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(link.name)[0] or "application/octet-stream"


def _capped(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """The file's bytes, refusing to pass ``limit`` whatever size Procurify declared."""
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise _TooLarge(seen)
        yield chunk


def _note(key: str, name: str, bill_label: str) -> str:
    tail = f" [{marker(key)}]"
    return f"Invoice file {name} of {bill_label}, from Procurify"[: NOTE_LIMIT - len(tail)] + tail


def _mark_sent(row: ExternalRecord, sent: bool) -> None:
    row.extra = {**(row.extra or {}), "sent": sent}
    row.save(update_fields=["extra", "updated_at"])


def _lookup(ctx: Context, row: ExternalRecord, bill: ExternalRecord, audit: RecordAudit) -> Entity | None:
    wanted = marker(row.procurify_id)
    for found in ctx.qbo.query_all("Attachable", q.eq("AttachableRef.EntityRef.value", bill.qbo_id)):
        if wanted in (getattr(found, "Note", None) or ""):
            audit("read", f"Lookup found Attachable {found.Id} by marker {wanted}.")
            return found
    audit("read", f"Lookup found no Attachable with marker {wanted}.")
    return None


def _fresh_link(ctx: Context, row: ExternalRecord, audit: RecordAudit) -> InvoiceFile | None:
    """Download links expire: a file noted in an earlier run is looked up on a fresh read of its bill."""
    facts = row.extra or {}
    bill = ctx.procurify.get_bill(str(facts.get("bill")))
    audit("read", "Read the bill again in Procurify for a current download link.")
    if not isinstance(bill, Bill):
        raise Permanent("Procurify sent the bill in a form we could not read.", code="malformed_record")
    for entry in bill.invoice_attachments or []:
        parsed = parse_entry(str(facts.get("bill")), entry)
        if parsed is not None and parsed.key == row.procurify_id:
            return parsed
    return None


def _linked(ctx: Context, row: ExternalRecord, found: Entity, audit: RecordAudit, message: str) -> None:
    audit("response", message, {"Id": found.Id})
    row.qbo_id, row.sync_token = str(found.Id), str(found.SyncToken or "")
    row.state, row.last_synced_at = ExternalRecord.State.SYNCED, timezone.now()
    row.extra = {**(row.extra or {}), "sent": False}
    row.save()
    holds.resolve(ctx.organisation, RecordKind.ATTACHMENT, row.procurify_id)


def _not_attached(ctx: Context, row: ExternalRecord, label: str, held: Held) -> str:
    hold_record(ctx, RecordKind.ATTACHMENT, row.procurify_id, held, label)
    return "not_attached"


# ---- the bill's record page ------------------------------------------------------------------------


def files_of_bill(organisation: Organisation, bill_uuid: str) -> list[dict[str, Any]]:
    """Each invoice file of one bill with where it stands: attached (with its Attachable Id),
    waiting, or not attached and why."""
    prefix = f"{bill_uuid}:"
    scope = {
        "organisation": organisation,
        "object_type": RecordKind.ATTACHMENT,
        "procurify_id__startswith": prefix,
    }
    held = {h.procurify_id: h for h in HeldRecord.objects.filter(**scope)}
    out = []
    for row in ExternalRecord.objects.filter(**scope).order_by("id"):
        hold = held.pop(row.procurify_id, None)
        out.append(_file_state(row.procurify_id, row.label, row, hold))
    out.extend(_file_state(key, h.label, None, h) for key, h in held.items())
    return out


def _file_state(key: str, name: str, row: ExternalRecord | None, hold: HeldRecord | None) -> dict[str, Any]:
    if row is not None and row.state == ExternalRecord.State.SYNCED:
        state, message = "attached", f"Attached in QuickBooks (Attachable {row.qbo_id})."
    elif hold is not None and hold.state != HeldRecord.State.RESOLVED:
        state, message = "not_attached", hold.message
    elif hold is not None:
        state, message = "ignored", f"Not attached (ignored): {hold.message}"
    else:
        state, message = "waiting", "Waiting to be attached (after its bill reaches QuickBooks)."
    titles = {
        "attached": "Attached",
        "not_attached": "Not attached",
        "ignored": "Ignored",
        "waiting": "Waiting",
    }
    return {"key": key, "name": name, "state": state, "title": titles[state], "message": message}
