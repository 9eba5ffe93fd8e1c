"""Mapping services: refresh the lists, auto-match, save a person's choice, release the holds it unblocks.

Rules (issue 5, item 2): a manual choice is never overwritten; every automatic match records why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from connector.errors import ConnectorError
from connector.models import AuditEvent, HeldRecord, SyncRun
from connector.sync.audit import Audit
from connector.sync.holds import release_waiting, resolve
from connector.sync.transform import Held, Plan, vendor_payload
from connector.sync.writers import Writer
from mappings.models import AccountMapping, QBOAccount, QBOVendor, Source, VendorMapping
from mappings.normalise import Candidate, Match, match_account, match_vendor, normalise_name
from tenants.models import Organisation

if TYPE_CHECKING:
    from connector.qbo.client import QBOClient

__all__ = [
    "VendorNotCreated",
    "auto_match_accounts",
    "auto_match_vendors",
    "create_qbo_vendor",
    "normalise_name",
    "record_created_vendor",
    "save_account_mapping",
    "save_vendor_mapping",
]

AUTO_SOURCES = (Source.NONE,)  # only unmapped rows are matched; auto and manual choices stay


def vendor_candidates(organisation: Organisation) -> list[Candidate]:
    rows = QBOVendor.objects.filter(organisation=organisation)
    return [Candidate(v.qbo_id, v.display_name, v.normalised_name, v.active) for v in rows]


def account_candidates(organisation: Organisation) -> list[Candidate]:
    rows = QBOAccount.objects.filter(organisation=organisation).exclude(acct_num="")
    return [Candidate(a.qbo_id, a.fully_qualified_name or a.name, a.acct_num, a.active) for a in rows]


def auto_match_vendors(organisation: Organisation) -> list[VendorMapping]:
    """Match every unmapped vendor; returns the rows newly matched (their holds are released)."""
    candidates = vendor_candidates(organisation)
    matched = []
    for mapping in VendorMapping.objects.filter(organisation=organisation, source__in=AUTO_SOURCES):
        found = match_vendor(mapping.procurify_name, candidates) or _inactive_vendor(mapping, candidates)
        if found is not None:
            _apply_vendor(mapping, found, Source.AUTO_NAME)
            matched.append(mapping)
    return matched


def _inactive_vendor(mapping: VendorMapping, candidates: list[Candidate]) -> Match | None:
    # No active match but exactly one inactive vendor of that name: creating one would fail with
    # 6240 (an inactive name still holds it, QBO §3), so map it and let bills be held as
    # "vendor_inactive" — reactivating it in QBO then releases them on the next run.
    hits = [c for c in candidates if not c.active and c.key == mapping.normalised_name]
    if len(hits) != 1:
        return None
    hit = hits[0]
    return Match(hit.qbo_id, hit.name, f"Name matches QuickBooks vendor '{hit.name}', which is inactive.")


def auto_match_accounts(organisation: Organisation) -> list[AccountMapping]:
    candidates = account_candidates(organisation)
    matched = []
    for mapping in AccountMapping.objects.filter(organisation=organisation, source__in=AUTO_SOURCES):
        found = match_account(mapping.code, candidates) or _inactive_account(mapping, candidates)
        if found is not None:
            _apply_account(mapping, found, Source.AUTO_NUMBER)
            matched.append(mapping)
    return matched


def _inactive_account(mapping: AccountMapping, candidates: list[Candidate]) -> Match | None:
    # Same reasoning as vendors: the number is taken; hold bills as account_inactive, not unmapped.
    hits = [c for c in candidates if not c.active and c.key.strip() == mapping.code.strip()]
    if len(hits) != 1:
        return None
    hit = hits[0]
    return Match(
        hit.qbo_id,
        hit.name,
        f"Code {mapping.code} is the number of inactive QuickBooks account '{hit.name}'.",
    )


def save_vendor_mapping(
    organisation: Organisation, procurify_vendor_id: int, qbo_vendor_id: str, *, user: Any = None
) -> VendorMapping:
    """A person's choice: stored as manual (never overwritten) and every record waiting on it released."""
    qbo_vendor = QBOVendor.objects.get(organisation=organisation, qbo_id=qbo_vendor_id)
    with transaction.atomic():
        mapping = VendorMapping.objects.select_for_update().get(
            organisation=organisation, procurify_vendor_id=procurify_vendor_id
        )
        match = Match(qbo_vendor.qbo_id, qbo_vendor.display_name, "Chosen by a person.")
        _apply_vendor(mapping, match, Source.MANUAL, user=user)
    return mapping


def save_account_mapping(
    organisation: Organisation, procurify_account_code_id: int, qbo_account_id: str, *, user: Any = None
) -> AccountMapping:
    qbo_account = QBOAccount.objects.get(organisation=organisation, qbo_id=qbo_account_id)
    with transaction.atomic():
        mapping = AccountMapping.objects.select_for_update().get(
            organisation=organisation, procurify_account_code_id=procurify_account_code_id
        )
        name = qbo_account.fully_qualified_name or qbo_account.name
        _apply_account(
            mapping, Match(qbo_account.qbo_id, name, "Chosen by a person."), Source.MANUAL, user=user
        )
    return mapping


def record_created_vendor(
    organisation: Organisation, procurify_vendor_id: int, qbo_id: str, name: str
) -> None:
    mapping = VendorMapping.objects.get(organisation=organisation, procurify_vendor_id=procurify_vendor_id)
    QBOVendor.objects.update_or_create(
        organisation=organisation,
        qbo_id=qbo_id,
        defaults={"display_name": name, "normalised_name": normalise_name(name), "active": True},
    )
    _apply_vendor(mapping, Match(qbo_id, name, "Created in QuickBooks by ml-connector."), Source.CREATED)


def _apply_vendor(mapping: VendorMapping, match: Match, source: str, *, user: Any = None) -> None:
    mapping.qbo_vendor_id, mapping.qbo_vendor_name = match.qbo_id, match.name
    mapping.source, mapping.reason = source, match.reason[:300]
    mapping.decided_at, mapping.decided_by = timezone.now(), user
    mapping.save()
    key = str(mapping.procurify_vendor_id)
    release_waiting(mapping.organisation, "vendor_mapping", key)
    resolve(mapping.organisation, "vendor", key)  # a vendor held for a name clash is settled


def _apply_account(mapping: AccountMapping, match: Match, source: str, *, user: Any = None) -> None:
    mapping.qbo_account_id, mapping.qbo_account_name = match.qbo_id, match.name
    mapping.source, mapping.reason = source, match.reason[:300]
    mapping.decided_at, mapping.decided_by = timezone.now(), user
    mapping.save()
    release_waiting(mapping.organisation, "account_mapping", str(mapping.procurify_account_code_id))


def unmapped_vendor_ids(organisation: Organisation, ids: Iterable[int]) -> set[int]:
    mapped = VendorMapping.objects.filter(
        organisation=organisation, procurify_vendor_id__in=list(ids)
    ).exclude(qbo_vendor_id="")
    return set(ids) - set(mapped.values_list("procurify_vendor_id", flat=True))


# ---- "Create this vendor in QuickBooks" ----------------------------------------------------------

VENDOR = "vendor"  # ExternalRecord.object_type the engine uses for vendors it creates
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

    The same payload and exactly-once write as the engine's vendor step (transform.vendor_payload
    through Writer, object_type "vendor", marker = the Procurify id), so a create the engine already
    made (or half-made) is found and adopted rather than duplicated. Raises VendorNotCreated with a
    sentence for the form; nothing is changed in that case.
    """
    if mapping.organisation_id != organisation.pk:
        raise VendorNotCreated("This vendor belongs to another organisation.")
    if mapping.is_mapped:
        raise VendorNotCreated(f"{mapping.procurify_name} is already mapped to '{mapping.qbo_vendor_name}'.")
    if SyncRun.objects.filter(organisation=organisation, status__in=SyncRun.ACTIVE).exists():
        # The engine's vendor step may be creating this very vendor; let it finish first.
        raise VendorNotCreated("A sync is running. Try again once it has finished.")
    key = str(mapping.procurify_vendor_id)
    audit = Audit(organisation)
    by = getattr(user, "email", "") or "someone"
    plan = Plan(
        "Vendor", vendor_payload(mapping.procurify_name), f"Vendor {mapping.procurify_name}", key, "", None
    )
    try:
        result = Writer(organisation, qbo).write(VENDOR, key, plan, audit.for_record(VENDOR, key))
    except Held as exc:
        raise VendorNotCreated(_refusal_sentence(exc, plan.payload["DisplayName"])) from exc
    except ConnectorError as exc:
        raise VendorNotCreated(f"QuickBooks did not create the vendor: {exc.message}") from exc
    name = plan.payload["DisplayName"]
    waiting = _waiting_count(organisation, key)
    record_created_vendor(organisation, mapping.procurify_vendor_id, result.record.qbo_id, name)
    VendorMapping.objects.filter(pk=mapping.pk).update(
        decided_by=user, reason=f"Created in QuickBooks by {by}."[:300]
    )
    audit.record(
        AuditEvent.Kind.MAPPING,
        f"{by} created QuickBooks vendor '{name}' ({result.record.qbo_id}) for Procurify vendor "
        f"'{mapping.procurify_name}'; {waiting} held record(s) released.",
        object_type=VENDOR,
        procurify_id=key,
        data={"action": "create_vendor", "by": by, "qbo_id": result.record.qbo_id, "outcome": result.outcome},
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
    if exc.reason_code == "duplicate_vendor_name":
        return DUPLICATE_NAME_SENTENCE.format(name=name)
    return exc.message
