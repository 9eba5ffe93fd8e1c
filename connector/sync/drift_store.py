"""Recording drift and the "changed on both sides" decision, shared by the daily sweep (drift.py) and
the writer's stale-SyncToken path (writers.py), which must not import the sweep.

Flags on ExternalRecord.extra make the engine's checks cheap: a bill paid or deleted in QuickBooks is
never written again without a person (docs/qbo-facts.md, "Drift").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from connector.models import AuditEvent, ExternalRecord, QBODrift, SyncRun
from connector.sync.audit import Audit
from connector.sync.drift_diff import WRITTEN, changes, flatten, procurify_changes, qbo_changes, qbo_fields
from connector.sync.transform import Held, Plan

PAID = "paid_in_qbo"  # ExternalRecord.extra flags
DELETED = "deleted_in_qbo"
KIND_MESSAGES: dict[str, str] = {
    QBODrift.Kind.CHANGED: "Changed in QuickBooks by someone there",
    QBODrift.Kind.DELETED: "Deleted in QuickBooks by someone there",
    QBODrift.Kind.PAID: "Paid in QuickBooks",
}


def record_drift(
    record: ExternalRecord,
    kind: str,
    now_body: Mapping[str, Any],
    *,
    reads: int = 0,
    run: SyncRun | None = None,
) -> QBODrift:
    """Create or reopen the record's drift row with the diff between our write and QuickBooks now."""
    remembered = (record.extra or {}).get(WRITTEN) or {}
    if kind == QBODrift.Kind.DELETED:
        diff = changes(remembered.get("qbo") or {}, {})
        fields: dict[str, str] = {}
    else:
        diff = qbo_changes(remembered, now_body)
        fields = qbo_fields(remembered, now_body)
        if kind == QBODrift.Kind.PAID:
            total, balance = flatten(now_body.get("TotalAmt")), flatten(now_body.get("Balance"))
            diff.append({"field": "Balance", "before": total.get("", "?"), "after": balance.get("", "?")})
    meta = now_body.get("MetaData") or {}
    drift, _ = QBODrift.objects.update_or_create(
        organisation=record.organisation,
        object_type=record.object_type,
        procurify_id=record.procurify_id,
        defaults={
            "label": record.label,
            "qbo_entity": record.qbo_entity,
            "qbo_id": record.qbo_id,
            "kind": kind,
            "state": QBODrift.State.OPEN,
            "qbo_sync_token": str(now_body.get("SyncToken") or ""),
            "qbo_updated_at": str(meta.get("LastUpdatedTime") or ""),
            "changes": diff,
            "qbo_now": fields,
            "procurify": {},
            "metered_reads": reads,
            "run": run,
            "detected_at": timezone.now(),
            "resolution": "",
            "resolved_by": "",
            "resolved_at": None,
        },
    )
    flag = {QBODrift.Kind.PAID.value: PAID, QBODrift.Kind.DELETED.value: DELETED}.get(kind)
    if flag:
        record.extra = {**(record.extra or {}), flag: True}
        record.save(update_fields=["extra", "updated_at"])
    Audit(record.organisation, run).record(
        AuditEvent.Kind.READ,
        f"{KIND_MESSAGES[kind]} ({record.qbo_entity} {record.qbo_id}): "
        f"{len(diff)} field(s) differ from what we wrote.",
        object_type=record.object_type,
        procurify_id=record.procurify_id,
        data={"kind": kind, "changes": diff, "SyncToken": drift.qbo_sync_token},
    )
    return drift


def open_drift(record: ExternalRecord) -> QBODrift | None:
    return QBODrift.objects.filter(
        organisation=record.organisation,
        object_type=record.object_type,
        procurify_id=record.procurify_id,
        state=QBODrift.State.OPEN,
    ).first()


def both_sides(drift: QBODrift, record: ExternalRecord, plan: Plan, digest: str) -> Held:
    """Procurify changed a record someone also changed in QuickBooks: keep both diffs on the drift row
    for the person who chooses, and hold the record (nothing is overwritten)."""
    remembered = (record.extra or {}).get(WRITTEN) or {}
    drift.procurify = {
        "payload_hash": digest,
        "changes": procurify_changes(remembered, plan.payload),
        "fields": flatten(dict(plan.payload)),
    }
    drift.save(update_fields=["procurify"])
    return Held("changed_on_both_sides", bill=plan.label, payload_hash=digest)


def changed_by_someone(
    record: ExternalRecord, fresh: Mapping[str, Any], plan: Plan, digest: str
) -> Held | None:
    """After a stale SyncToken (5010): if a person changed fields we write, record the drift and hold
    the record rather than re-apply our payload over their change (QBO reference §4: user edits win)."""
    remembered = (record.extra or {}).get(WRITTEN)
    if not remembered or not qbo_changes(remembered, fresh):
        return None
    drift = record_drift(record, QBODrift.Kind.CHANGED, fresh)
    return both_sides(drift, record, plan, digest)


def guard(organisation: Any, object_type: str, procurify_id: str, plan: Plan, digest: str) -> None:
    """Before a write: never overwrite what a person did in QuickBooks (raises Held).

    Only a Procurify change (digest differs from what we last wrote) is guarded; an unchanged record is
    skipped by the writer anyway.
    """
    record = ExternalRecord.objects.filter(
        organisation=organisation, object_type=object_type, procurify_id=str(procurify_id)
    ).first()
    if record is None or not record.qbo_id or digest == record.payload_hash:
        return
    extra = record.extra or {}
    if extra.get(PAID):
        raise Held("bill_paid_in_qbo", bill=plan.label)
    if extra.get(DELETED):
        raise Held("deleted_in_qbo", bill=plan.label)
    drift = open_drift(record)
    if drift is not None and drift.kind == QBODrift.Kind.CHANGED:
        raise both_sides(drift, record, plan, digest)
