"""The QuickBooks company is part of every identity: switching companies starts the new one fresh.

Record links, QBO reference copies, the QBO side of mappings and the cursors all name objects of one
company; an Id from company A may be an unrelated bill in company B. When an organisation's
connection now points at another company than the one it last synced with, everything of the old
company is set aside before anything is read or written, and the audit trail says what was.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from connector.models import ExternalRecord, HeldRecord, QBODrift, SyncCursor
from connector.sync.audit import Audit
from mappings.dimension_models import (
    ClassMapping,
    LocationMapping,
    QBOClass,
    QBOLocation,
    QBOTaxCode,
    TaxMapping,
)
from mappings.models import (
    AccountMapping,
    BooksProfile,
    PaymentAccountMapping,
    QBOAccount,
    QBOTerm,
    QBOVendor,
    Source,
    VendorMapping,
)
from tenants.models import Organisation


def last_synced_realm(organisation: Organisation) -> str:
    profile = BooksProfile.objects.filter(organisation=organisation).only("qbo_realm_id").first()
    return profile.qbo_realm_id if profile else ""


def switch_preview(organisation: Organisation, realm_id: str) -> dict[str, int]:
    """What a switch to ``realm_id`` would set aside (shown before it happens; empty when none)."""
    previous = last_synced_realm(organisation)
    if not previous or previous == realm_id:
        return {}
    return {
        "record links": ExternalRecord.objects.filter(organisation=organisation).count(),
        "vendor mappings": VendorMapping.objects.filter(organisation=organisation)
        .exclude(qbo_vendor_id="")
        .count(),
        "account mappings": AccountMapping.objects.filter(organisation=organisation)
        .exclude(qbo_account_id="")
        .count(),
    }


def start_fresh_if_switched(organisation: Organisation, realm_id: str, audit: Audit) -> bool:
    """Set aside the previous company's links, copies, mappings and cursors; True if it did."""
    previous = last_synced_realm(organisation)
    if not previous or previous == realm_id:
        return False
    counts: Counter[str] = Counter()
    with transaction.atomic():
        counts["record links"], _ = ExternalRecord.objects.filter(organisation=organisation).delete()
        for model in (QBOVendor, QBOAccount, QBOTerm):
            counts["reference copies"] += model.objects.filter(organisation=organisation).delete()[0]
        counts["vendor mappings"] = (
            VendorMapping.objects.filter(organisation=organisation)
            .exclude(qbo_vendor_id="")
            .update(qbo_vendor_id="", qbo_vendor_name="", source=Source.NONE, reason="")
        )
        VendorMapping.objects.filter(organisation=organisation).update(
            suggested_qbo_vendor_id="", suggested_qbo_vendor_name="", suggestion_reason=""
        )
        counts["account mappings"] = (
            AccountMapping.objects.filter(organisation=organisation)
            .exclude(qbo_account_id="")
            .update(qbo_account_id="", qbo_account_name="", source=Source.NONE, reason="")
        )
        counts.update(_set_aside_dimensions(organisation))
        counts["payment accounts"] = (  # Bank/Credit Card accounts of the previous company (payments.py)
            PaymentAccountMapping.objects.filter(organisation=organisation)
            .exclude(qbo_account_id="")
            .update(qbo_account_id="", qbo_account_name="")
        )
        counts["cursors"], _ = SyncCursor.objects.filter(organisation=organisation).delete()
        counts["holds"], _ = HeldRecord.objects.filter(organisation=organisation).delete()
        counts["drift findings"], _ = QBODrift.objects.filter(organisation=organisation).delete()
        BooksProfile.objects.filter(organisation=organisation).update(qbo_realm_id=realm_id)
    audit.record(
        "decision",
        f"QuickBooks company changed from {previous} to {realm_id}: started the new company fresh; the "
        "previous company's links, mappings and cursors were set aside.",
        data=dict(counts),
    )
    return True


def _set_aside_dimensions(organisation: Organisation) -> Counter[str]:
    """Tax codes, classes and locations of the old company: copies deleted, choices cleared."""
    counts: Counter[str] = Counter()
    for model in (QBOTaxCode, QBOClass, QBOLocation):
        counts["reference copies"] += model.objects.filter(organisation=organisation).delete()[0]
    for mapping_model in (TaxMapping, ClassMapping, LocationMapping):
        counts["tax, class and location mappings"] += (
            mapping_model.objects.filter(organisation=organisation)
            .exclude(qbo_id="")
            .update(qbo_id="", qbo_name="", source="", suggested_qbo_id="", suggested_qbo_name="")
        )
    return counts
