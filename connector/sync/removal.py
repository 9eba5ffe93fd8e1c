"""A person's answer to "removed in Procurify after it reached QuickBooks": delete it there, or keep it.

Both are audited with who decided. Deleting reads the bill first (a fresh SyncToken, docs/qbo-facts.md) and
refuses a bill with payments: QuickBooks will not delete it, and a paid bill needs a person there.
"""

from __future__ import annotations

from django.db import transaction

from connector.client_factory import ClientFactory
from connector.errors import Permanent
from connector.kinds import BILL_LINKS, RecordKind
from connector.models import AuditEvent, ExternalRecord, HeldRecord
from connector.sync import holds
from connector.sync.audit import Audit
from connector.sync.sweep import KEPT
from connector.sync.writers import is_locked


def keep(held: HeldRecord) -> None:
    """The QuickBooks bill stays; the sweep stops asking about it."""
    record = _record(held)
    if record is not None:
        record.extra = {**(record.extra or {}), KEPT: True}
        record.save(update_fields=["extra", "updated_at"])


def delete_in_qbo(held: HeldRecord, *, by: str, clients: ClientFactory) -> None:
    record = _record(held)
    if record is None or not record.qbo_id:
        raise Permanent("We have no QuickBooks bill for this record.", code="no_qbo_object")
    qbo = clients.qbo(held.organisation)  # per organisation, built when a person acts
    if record.realm_id and record.realm_id != qbo.realm_id:
        raise Permanent("This bill lives in another QuickBooks company.", code="other_company")
    entity = record.qbo_entity or "Bill"  # a negative bill is a VendorCredit (connector/sync/credits.py)
    bill = qbo.read(entity, record.qbo_id)
    if is_locked(bill):
        message = "It has payments or applied credits in QuickBooks; remove them there first."
        raise Permanent(message, code="bill_paid_in_qbo")
    qbo.delete(entity, record.qbo_id, str(bill.SyncToken))
    with transaction.atomic():
        Audit(held.organisation).record(
            AuditEvent.Kind.DECISION,
            f"Deleted in QuickBooks by {by} ({entity} {record.qbo_id}), after it left Procurify.",
            object_type=held.object_type,
            procurify_id=held.procurify_id,
            data={
                "action": "deleted_in_qbo",
                "by": by,
                "qbo_id": record.qbo_id,
                "reason_code": held.reason_code,
            },
        )
        record.delete()  # approved again later, it is written afresh
        holds.resolve(held.organisation, held.object_type, held.procurify_id)


def _record(held: HeldRecord) -> ExternalRecord | None:
    types = BILL_LINKS if held.object_type == RecordKind.BILL else (held.object_type,)  # or its vendor credit
    return ExternalRecord.objects.filter(
        organisation=held.organisation, object_type__in=types, procurify_id=held.procurify_id
    ).first()
