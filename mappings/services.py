"""Mapping actions of the pages: confirm or dismiss a suggestion, create a vendor (or its currency twin)
in QuickBooks. Auto-match and applying a choice live in mappings/matching.py (the engine uses them too)
and are re-exported here for the pages.

A suggestion waits for a person while it has a reason. Dismissing it clears the reason but keeps
which QBO vendor was suggested, so the next pass does not offer that vendor again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from connector.errors import ConnectorError
from connector.hold_reasons import ReasonCode
from connector.kinds import RecordKind
from connector.models import AuditEvent, HeldRecord, SyncRun
from connector.sync.audit import Audit
from connector.sync.books import ensure_books
from connector.sync.holds import release_waiting
from connector.sync.transform import Held, Plan, currency_twin_name, new_vendor_currency, vendor_payload
from connector.sync.vendor_create import create_vendor
from connector.sync.writers import Writer
from mappings.matching import (
    SUGGESTION_PENDING,
    VendorMatchResult,
    auto_match_accounts,
    auto_match_vendors,
    has_pending_suggestion,
    record_created_vendor,
    save_account_mapping,
    save_vendor_mapping,
)
from mappings.models import QBOVendor, VendorMapping
from mappings.normalise import normalise_name
from tenants.models import Organisation

if TYPE_CHECKING:
    from connector.qbo.client import QBOClient

__all__ = [
    "SUGGESTION_PENDING",
    "SuggestionGone",
    "VendorMatchResult",
    "VendorNotCreated",
    "auto_match_accounts",
    "auto_match_vendors",
    "confirm_vendor_suggestion",
    "create_qbo_vendor",
    "dismiss_vendor_suggestion",
    "normalise_name",
    "record_created_vendor",
    "save_account_mapping",
    "save_vendor_mapping",
]


def unmapped_vendor_ids(organisation: Organisation, ids: Iterable[int]) -> set[int]:
    mapped = VendorMapping.objects.filter(
        organisation=organisation, procurify_vendor_id__in=list(ids)
    ).exclude(qbo_vendor_id="")
    return set(ids) - set(mapped.values_list("procurify_vendor_id", flat=True))


# ---- Suggestions a person confirms or dismisses ----------------------------------------------------


class SuggestionGone(Exception):
    """The suggestion is no longer there to act on (changed, confirmed, or its vendor is inactive)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def confirm_vendor_suggestion(
    mapping: VendorMapping, user: Any, *, qbo_vendor_id: str | None = None
) -> VendorMapping:
    """The person says the suggested QBO vendor is this company: saved exactly as their own choice
    (manual, decided_by them, never overwritten) and the holds waiting on it released.

    qbo_vendor_id: the vendor the person saw; if the suggestion changed since, nothing is saved.
    """
    organisation = mapping.organisation
    with transaction.atomic():
        row = _pending_row(mapping, qbo_vendor_id)
        vendor = QBOVendor.objects.filter(
            organisation=organisation, qbo_id=row.suggested_qbo_vendor_id
        ).first()
        if vendor is None or not vendor.active:
            raise SuggestionGone(
                f"QuickBooks vendor '{row.suggested_qbo_vendor_name}' is inactive or gone. "
                "Reactivate it in QuickBooks or choose another."
            )
        key = str(row.procurify_vendor_id)
        waiting = _waiting_count(organisation, key)
        reason = f"Suggestion confirmed by a person ({row.suggestion_reason})."
        saved = save_vendor_mapping(
            organisation, row.procurify_vendor_id, vendor.qbo_id, user=user, reason=reason[:300]
        )
    by = getattr(user, "email", "") or "someone"
    Audit(organisation).record(
        AuditEvent.Kind.MAPPING,
        f"{by} confirmed that Procurify vendor '{saved.procurify_name}' is QuickBooks vendor "
        f"'{saved.qbo_vendor_name}' ({row.suggestion_reason}); {waiting} held record(s) released.",
        object_type=RecordKind.VENDOR,
        procurify_id=key,
        data={"action": "confirm_suggestion", "by": by, "qbo_id": saved.qbo_vendor_id},
    )
    return saved


def dismiss_vendor_suggestion(
    mapping: VendorMapping, user: Any, *, qbo_vendor_id: str | None = None
) -> VendorMapping:
    """The person says the suggested QBO vendor is another company: the row stays unmapped and that
    vendor is not suggested again for it."""
    with transaction.atomic():
        row = _pending_row(mapping, qbo_vendor_id)
        row.suggestion_reason = ""
        row.save(update_fields=["suggestion_reason"])
    by = getattr(user, "email", "") or "someone"
    Audit(row.organisation).record(
        AuditEvent.Kind.MAPPING,
        f"{by} dismissed QuickBooks vendor '{row.suggested_qbo_vendor_name}' as a match for Procurify "
        f"vendor '{row.procurify_name}'.",
        object_type=RecordKind.VENDOR,
        procurify_id=str(row.procurify_vendor_id),
        data={"action": "dismiss_suggestion", "by": by, "qbo_id": row.suggested_qbo_vendor_id},
    )
    return row


def _pending_row(mapping: VendorMapping, qbo_vendor_id: str | None) -> VendorMapping:
    row = VendorMapping.objects.select_for_update().get(pk=mapping.pk)
    if not has_pending_suggestion(row) or qbo_vendor_id not in (None, row.suggested_qbo_vendor_id):
        raise SuggestionGone(
            f"The suggestion for {row.procurify_name} has changed or was already settled; nothing was saved."
        )
    return row


# ---- "Create this vendor in QuickBooks" ----------------------------------------------------------

DUPLICATE_NAME_SENTENCE = (
    "A customer or employee in QuickBooks already uses this name ('{name}'), and QuickBooks needs vendor, "
    "customer and employee names to be unique. Choose that name's vendor below if it is one, or rename "
    "the customer or employee in QuickBooks and try again."
)


class VendorNotCreated(Exception):
    """QuickBooks (or the state of the organisation) refused the create; `message` is for the form."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CreatedVendor:
    mapping: VendorMapping
    qbo_id: str
    name: str
    released: int  # held records released because they waited on this vendor


def create_qbo_vendor(
    organisation: Organisation, mapping: VendorMapping, *, qbo: QBOClient, user: Any
) -> CreatedVendor:
    """Create the Procurify vendor of an unmapped row in QuickBooks and map the row to it.

    The same function as the engine's vendor step (connector/sync/vendor_create.py), so a create the
    engine already made (or half-made) is found and adopted rather than duplicated. Raises
    VendorNotCreated with a sentence for the form; nothing is changed in that case.
    """
    if mapping.organisation_id != organisation.pk:
        raise VendorNotCreated("This vendor belongs to another organisation.")
    if mapping.is_mapped:
        raise VendorNotCreated(f"{mapping.procurify_name} is already mapped to '{mapping.qbo_vendor_name}'.")
    if SyncRun.objects.for_org(organisation).active().exists():
        # The engine's vendor step may be creating this very vendor; let it finish first.
        raise VendorNotCreated("A sync is running. Try again once it has finished.")
    key = str(mapping.procurify_vendor_id)
    audit = Audit(organisation)
    by = getattr(user, "email", "") or "someone"
    try:
        books = ensure_books(organisation, qbo)
        created = create_vendor(
            mapping, books, Writer(organisation, qbo), audit.for_record(RecordKind.VENDOR, key)
        )
    except Held as exc:
        raise VendorNotCreated(_refusal_sentence(exc, mapping.procurify_name)) from exc
    except ConnectorError as exc:
        raise VendorNotCreated(f"QuickBooks did not create the vendor: {exc.message}") from exc
    result, name = created.result, created.name
    assert result is not None  # no batch: written now
    waiting = _waiting_count(organisation, key)
    record_created_vendor(
        organisation, mapping.procurify_vendor_id, result.record.qbo_id, name, created.currency
    )
    VendorMapping.objects.filter(pk=mapping.pk).update(
        decided_by=user, reason=f"Created in QuickBooks by {by}."[:300]
    )
    audit.record(
        AuditEvent.Kind.MAPPING,
        f"{by} created QuickBooks vendor '{name}' ({result.record.qbo_id}) for Procurify vendor "
        f"'{mapping.procurify_name}'; {waiting} held record(s) released.",
        object_type=RecordKind.VENDOR,
        procurify_id=key,
        data={"action": "create_vendor", "by": by, "qbo_id": result.record.qbo_id, "outcome": result.outcome},
    )
    mapping.refresh_from_db()
    return CreatedVendor(mapping, result.record.qbo_id, name, waiting)


def create_currency_twin(
    organisation: Organisation, mapping: VendorMapping, currency: str, *, qbo: QBOClient, user: Any
) -> CreatedVendor:
    """One click for a vendor whose bills come in a currency its QuickBooks vendor cannot take: create
    "<name> (<currency>)" in that currency and map the Procurify vendor to it (docs/qbo-facts.md)."""
    currency = currency.strip().upper()
    books = ensure_books(organisation, qbo)
    if mapping.organisation_id != organisation.pk:
        raise VendorNotCreated("This vendor belongs to another organisation.")
    if not (len(currency) == 3 and currency.isalpha()) or currency == books.home_currency:
        raise VendorNotCreated(f"'{currency}' is not a foreign currency of this QuickBooks company.")
    if SyncRun.objects.for_org(organisation).active().exists():
        raise VendorNotCreated("A sync is running. Try again once it has finished.")
    base = mapping.qbo_vendor_name or mapping.procurify_name
    key = f"{mapping.procurify_vendor_id}:{currency}"  # not the vendor's own key: that one is taken
    audit = Audit(organisation)
    by = getattr(user, "email", "") or "someone"
    try:
        new_vendor_currency(base, currency, books)  # holds when multicurrency is off
        payload = vendor_payload(currency_twin_name(base, currency), currency=currency)
        plan = Plan("Vendor", payload, f"Vendor {payload['DisplayName']}", key, "", None)
        result = Writer(organisation, qbo).write(
            RecordKind.VENDOR, key, plan, audit.for_record(RecordKind.VENDOR, key)
        )
    except Held as exc:
        raise VendorNotCreated(_refusal_sentence(exc, currency_twin_name(base, currency))) from exc
    except ConnectorError as exc:
        raise VendorNotCreated(f"QuickBooks did not create the vendor: {exc.message}") from exc
    name = plan.payload["DisplayName"]
    record_created_vendor(organisation, mapping.procurify_vendor_id, result.record.qbo_id, name, currency)
    VendorMapping.objects.filter(pk=mapping.pk).update(
        decided_by=user, reason=f"{currency} twin created in QuickBooks by {by}."[:300]
    )
    waiting = release_waiting(organisation, "vendor_currency", key)
    audit.record(
        AuditEvent.Kind.MAPPING,
        f"{by} created QuickBooks vendor '{name}' in {currency} ({result.record.qbo_id}) and mapped "
        f"Procurify vendor '{mapping.procurify_name}' to it; {waiting} held record(s) released.",
        object_type=RecordKind.VENDOR,
        procurify_id=str(mapping.procurify_vendor_id),
        data={
            "action": "create_currency_twin",
            "by": by,
            "qbo_id": result.record.qbo_id,
            "currency": currency,
        },
    )
    mapping.refresh_from_db()
    return CreatedVendor(mapping, result.record.qbo_id, name, waiting)


def _waiting_count(organisation: Organisation, key: str) -> int:
    return HeldRecord.objects.filter(
        organisation=organisation,
        state=HeldRecord.State.HELD,
        waiting_on_type="vendor_mapping",
        waiting_on_key=key,
    ).count()


def _refusal_sentence(exc: Held, name: str) -> str:
    if exc.reason_code == ReasonCode.DUPLICATE_VENDOR_NAME:
        return DUPLICATE_NAME_SENTENCE.format(name=name)
    return exc.message
