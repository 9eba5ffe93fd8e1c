"""The record page's data: the link (or its hold) and its timeline, the document as Procurify and
QuickBooks have it, its invoice files, payments and a change made in QuickBooks."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from connector import kinds, record_document
from connector.audit_diff import with_diffs
from connector.drift_choices import choices as drift_choices
from connector.kinds import RecordKind
from connector.models import AuditEvent, ExternalRecord, HeldRecord, QBODrift
from connector.sync import attachments, credits
from connector.sync.payments import payments_of_bill
from tenants.models import Connection, Organisation, Provider

# QuickBooks' own pages for each entity we write; the id parameter differs for name-list entities.
_QBO_PAGES = {
    "Bill": "bill?txnId=",
    "VendorCredit": "vendorcredit?txnId=",
    "PurchaseOrder": "purchaseorder?txnId=",
    "Vendor": "vendordetail?nameId=",
}


def build(organisation: Organisation, object_type: str, procurify_id: str) -> dict[str, Any] | None:
    """Everything the page shows about one record; None when we know nothing of it."""
    scope = {"organisation": organisation, "object_type": object_type, "procurify_id": procurify_id}
    external = ExternalRecord.objects.filter(**scope).first()
    if external is None and object_type == RecordKind.BILL:
        external = ExternalRecord.objects.filter(**{**scope, "object_type": RecordKind.VENDOR_CREDIT}).first()
    held = HeldRecord.objects.filter(**scope).first()
    events = list(AuditEvent.objects.filter(**scope).select_related("run").order_by("-created_at", "-id"))
    if external is None and held is None and not events:
        return None
    context: dict[str, Any] = {
        "object_type": object_type,
        "type_label": type_label(object_type, external, held),
        "procurify_id": procurify_id,
        "external": external,
        "held": held,
        "label": (external and external.label) or (held and held.label) or procurify_id,
        "timeline": with_diffs(events),
        "document": record_document.build(
            organisation, object_type, events, bool(external and external.qbo_id)
        ),
        "can_replay": object_type in kinds.DOCUMENTS,
        "files": attachments.files_of_bill(organisation, procurify_id)
        if object_type == RecordKind.BILL
        else [],
        "qbo_link": qbo_link(external),
        "drift": _drift(organisation, object_type, procurify_id),
        "procurify_site": Connection.objects.filter(organisation=organisation, provider=Provider.PROCURIFY)
        .values_list("site_url", flat=True)
        .first(),
    }
    if object_type == RecordKind.BILL:  # its payments: BillPayments or holds (connector/sync/payments.py)
        context["bill_payments"] = payments_of_bill(organisation, procurify_id)
    return context


def _drift(organisation: Organisation, object_type: str, procurify_id: str) -> QBODrift | None:
    scope = {"organisation": organisation, "object_type": object_type, "procurify_id": procurify_id}
    drift = QBODrift.objects.filter(**scope).first()
    if drift is not None:
        drift.choices = drift_choices(drift)  # type: ignore[attr-defined]
    return drift


def type_label(object_type: str, external: ExternalRecord | None, held: HeldRecord | None) -> str:
    if external is not None and external.object_type == RecordKind.VENDOR_CREDIT:
        return kinds.spec(RecordKind.VENDOR_CREDIT).label
    if external is None and held is not None and held.label.startswith(credits.CREDIT_PREFIX):
        return kinds.spec(RecordKind.VENDOR_CREDIT).label  # held before it was ever written
    return kinds.PAGE_LABELS[object_type]


def qbo_link(external: ExternalRecord | None) -> str:
    if not (settings.QBO_APP_URL and external and external.qbo_id and external.qbo_entity in _QBO_PAGES):
        return ""
    return f"{settings.QBO_APP_URL}/app/{_QBO_PAGES[external.qbo_entity]}{external.qbo_id}"
