"""A bill that changed sign between runs: the QBO object of the old kind goes before the new one is written.

A credit edited to a positive total is a Bill now, and a bill edited below zero a VendorCredit
(connector/sync/credits.py). QuickBooks cannot turn one into the other, so the old object is deleted
(read first for a fresh SyncToken, audited) and the new one created by the ordinary exactly-once
writer. Never both alive: the delete comes first, and a create is only attempted once the old object
is gone. An old object with payments or applied credits is not ours to delete: the bill is held.

Crash-safe: the link row is dropped only after QuickBooks answered the delete; a run that died in
between finds the object already gone (610 on the read) and just drops the row.
"""

from __future__ import annotations

from django.db import transaction

from connector import kinds
from connector.errors import QBOFault
from connector.kinds import RecordKind
from connector.models import AuditEvent, ExternalRecord
from connector.qbo.schemas import Entity
from connector.sync.audit import RecordAudit
from connector.sync.context import Context
from connector.sync.transform import Held, Plan
from connector.sync.writers import is_locked

NOT_FOUND = "610"


def retire_other_kind(ctx: Context, procurify_id: str, link: str, plan: Plan, audit: RecordAudit) -> None:
    """Delete, in QuickBooks, what this bill was written as before it changed sign; or raise `Held`."""
    old_link = RecordKind.VENDOR_CREDIT if link == RecordKind.BILL else RecordKind.BILL
    record = ExternalRecord.objects.filter(
        organisation=ctx.organisation, object_type=old_link, procurify_id=procurify_id
    ).first()
    if record is None:
        return
    if record.realm_id and record.realm_id != ctx.qbo.realm_id:
        return  # another company's object: set aside with that company (connector/sync/company.py)
    entity = record.qbo_entity or kinds.spec(old_link).qbo_entity
    current = _current(ctx, record, entity, plan, audit)
    if current is None:
        audit(
            "decision",
            f"The {kinds.spec(old_link).noun} written before the sign changed is not in QuickBooks.",
        )
        record.delete()
        return
    if is_locked(current):
        raise Held(
            "credit_sign_flip_locked", bill=plan.label, detail=f"{kinds.spec(old_link).noun} {current.Id}"
        )
    audit("request", f"Delete {entity} {current.Id}", {"Id": current.Id, "SyncToken": current.SyncToken})
    ctx.qbo.delete(entity, str(current.Id), str(current.SyncToken))
    with transaction.atomic():
        audit(
            AuditEvent.Kind.DECISION,
            f"Deleted {entity} {current.Id} in QuickBooks: the bill changed sign in Procurify and is "
            f"written as a {kinds.spec(link).noun} instead.",
            # No "by": the Activity page lists what people did; this trail is on the record's timeline.
            {"action": "deleted_in_qbo", "automatic": True, "qbo_id": str(current.Id), "reason": "sign_flip"},
        )
        record.delete()


def _current(
    ctx: Context, record: ExternalRecord, entity: str, plan: Plan, audit: RecordAudit
) -> Entity | None:
    """The old object as QuickBooks holds it now, or None when it is not there."""
    if not record.qbo_id:
        # Its create never finished: it may have landed. Look for our marker where that attempt wrote.
        attempt = (record.extra or {}).get("attempt") or {}
        lookup = Plan(entity, {}, plan.label, plan.marker, str(attempt.get("vendor") or plan.vendor_id), None)
        return ctx.writer.find(lookup, audit, record)
    try:
        return ctx.qbo.read(entity, record.qbo_id)
    except QBOFault as fault:
        if NOT_FOUND in fault.codes():
            return None  # deleted already: by a run that died before dropping the row, or by a person
        raise
