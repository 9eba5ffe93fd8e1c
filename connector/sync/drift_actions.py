"""A person's answer to drift: which version QuickBooks keeps, re-create a deleted object, or note it.

Every answer is audited with who decided. Writing happens in the worker (a replay or the next run):
"Use Procurify's version" only clears the way, with QuickBooks' current SyncToken, so the write goes
through the writer's exactly-once path like any other.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from connector.errors import Permanent
from connector.models import AuditEvent, ExternalRecord, HeldRecord, QBODrift
from connector.sync import holds
from connector.sync.audit import Audit
from connector.sync.drift_diff import WRITTEN
from connector.sync.drift_store import DELETED

USE_PROCURIFY, KEEP_QBO, RECREATE, LEAVE_DELETED, SEEN = (
    "use_procurify",
    "keep_qbo",
    "recreate",
    "leave_deleted",
    "seen",
)
ALLOWED = {
    QBODrift.Kind.CHANGED: (USE_PROCURIFY, KEEP_QBO),
    QBODrift.Kind.DELETED: (RECREATE, LEAVE_DELETED),
    QBODrift.Kind.PAID: (SEEN,),
}
SENTENCES = {
    USE_PROCURIFY: "Procurify's version will be written over the change made in QuickBooks",
    KEEP_QBO: "QuickBooks' version is kept; Procurify's next change is written",
    RECREATE: "it will be created again in QuickBooks",
    LEAVE_DELETED: "it stays deleted in QuickBooks",
    SEEN: "noted as paid in QuickBooks; it is never re-written",
}


def decide(drift: QBODrift, action: str, *, by: str) -> bool:
    """Apply a person's choice; returns True when the record needs a write (the caller queues a replay)."""
    if drift.state != QBODrift.State.OPEN or action not in ALLOWED[QBODrift.Kind(drift.kind)]:
        raise Permanent("That choice does not apply to this change.", code="drift_choice")
    with transaction.atomic():
        record = (
            ExternalRecord.objects.select_for_update()
            .filter(
                organisation=drift.organisation,
                object_type=drift.object_type,
                procurify_id=drift.procurify_id,
            )
            .first()
        )
        if record is None:
            raise Permanent("We no longer have a link to this QuickBooks object.", code="no_qbo_object")
        write = _apply(drift, record, action)
        drift.state, drift.resolution = QBODrift.State.RESOLVED, action
        drift.resolved_by, drift.resolved_at = by, timezone.now()
        drift.save(update_fields=["state", "resolution", "resolved_by", "resolved_at"])
        Audit(drift.organisation).record(
            AuditEvent.Kind.DECISION,
            f"{drift.get_kind_display()}: {by} chose that {SENTENCES[action]}.",
            object_type=drift.object_type,
            procurify_id=drift.procurify_id,
            data={"action": action, "by": by, "qbo_id": drift.qbo_id, "kind": drift.kind},
        )
    return write


def _apply(drift: QBODrift, record: ExternalRecord, action: str) -> bool:
    scope = {
        "organisation": drift.organisation,
        "object_type": drift.object_type,
        "procurify_id": drift.procurify_id,
    }
    if action == USE_PROCURIFY:
        # Write today's Procurify payload with QuickBooks' current SyncToken (a stale one would be refused).
        record.sync_token, record.payload_hash = drift.qbo_sync_token, ""
        record.save(update_fields=["sync_token", "payload_hash", "updated_at"])
        _release(scope)
        return True
    if action == KEEP_QBO:
        # QuickBooks' fields become what we last wrote; Procurify's waiting change counts as written, so
        # nothing is sent until Procurify changes again.
        written = (record.extra or {}).get(WRITTEN) or {}
        waiting = drift.procurify or {}
        written = {**written, "qbo": drift.qbo_now, "sent": waiting.get("fields") or written.get("sent", {})}
        record.extra = {**(record.extra or {}), WRITTEN: written}
        record.sync_token = drift.qbo_sync_token
        if waiting.get("payload_hash"):
            record.payload_hash = waiting["payload_hash"]
        record.save(update_fields=["extra", "sync_token", "payload_hash", "updated_at"])
        holds.resolve(drift.organisation, drift.object_type, drift.procurify_id)
        return False
    if action == RECREATE:
        record.delete()  # the next write creates it afresh (the marker lookup finds nothing: it was deleted)
        _release(scope)
        return True
    if action == LEAVE_DELETED:
        record.extra = {**(record.extra or {}), DELETED: True}
        record.save(update_fields=["extra", "updated_at"])
        holds.resolve(drift.organisation, drift.object_type, drift.procurify_id)
        return False
    return False  # SEEN: the paid flag stays; a later Procurify change is held with a plain reason


def _release(scope: dict[str, object]) -> None:
    HeldRecord.objects.filter(**scope).open().update(
        state=HeldRecord.State.RELEASED, released_at=timezone.now()
    )
