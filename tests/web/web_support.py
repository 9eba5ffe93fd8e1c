"""Builders for engine rows used by the web tests (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

from connector.models import AuditEvent, HeldRecord, SyncRun
from mappings.models import AccountMapping, QBOAccount, QBOVendor, VendorMapping
from mappings.normalise import normalise_name
from tenants.models import Organisation


def qbo_vendor(organisation: Organisation, qbo_id: str, name: str, active: bool = True) -> QBOVendor:
    return QBOVendor.objects.create(
        organisation=organisation,
        qbo_id=qbo_id,
        display_name=name,
        normalised_name=normalise_name(name),
        active=active,
    )


def vendor_mapping(organisation: Organisation, procurify_id: int, name: str, **kwargs: Any) -> VendorMapping:
    kwargs.setdefault("procurify_currency", "USD")  # as the reference refresh records it
    return VendorMapping.objects.create(
        organisation=organisation,
        procurify_vendor_id=procurify_id,
        procurify_name=name,
        normalised_name=normalise_name(name),
        **kwargs,
    )


def qbo_account(
    organisation: Organisation,
    qbo_id: str,
    number: str,
    name: str,
    active: bool = True,
    account_type: str = "Expense",
) -> QBOAccount:
    return QBOAccount.objects.create(
        organisation=organisation,
        qbo_id=qbo_id,
        acct_num=number,
        name=name,
        fully_qualified_name=name,
        active=active,
        account_type=account_type,
    )


def account_mapping(
    organisation: Organisation, procurify_id: int, code: str, **kwargs: Any
) -> AccountMapping:
    return AccountMapping.objects.create(
        organisation=organisation, procurify_account_code_id=procurify_id, code=code, **kwargs
    )


def held(
    organisation: Organisation,
    procurify_id: str,
    *,
    object_type: str = "bill",
    reason_code: str = "vendor_unmapped",
    waiting_on: tuple[str, str] = ("", ""),
    message: str = "",
    **kwargs: Any,
) -> HeldRecord:
    return HeldRecord.objects.create(
        organisation=organisation,
        object_type=object_type,
        procurify_id=procurify_id,
        label=kwargs.pop("label", f"Bill {procurify_id}"),
        reason_code=reason_code,
        message=message or f"Reason {reason_code} for {procurify_id}.",
        waiting_on_type=waiting_on[0],
        waiting_on_key=waiting_on[1],
        **kwargs,
    )


def event(
    organisation: Organisation, procurify_id: str, kind: str, message: str, **kwargs: Any
) -> AuditEvent:
    return AuditEvent.objects.create(
        organisation=organisation,
        object_type=kwargs.pop("object_type", "bill"),
        procurify_id=procurify_id,
        kind=kind,
        message=message,
        **kwargs,
    )


def run(organisation: Organisation, status: str = SyncRun.Status.SUCCEEDED, **kwargs: Any) -> SyncRun:
    return SyncRun.objects.create(organisation=organisation, status=status, **kwargs)
