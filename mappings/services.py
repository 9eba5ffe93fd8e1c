"""Mapping services: refresh the lists, auto-match, save a person's choice, release the holds it unblocks.

Rules (issue 5, item 2): a manual choice is never overwritten; every automatic match records why.
Vendors (issue 10, item 4): automatic only for the same legal entity, one Procurify vendor per QBO
vendor; anything less is a suggestion a person confirms (mappings.normalise has the rules).

A suggestion waits for a person while it has a reason. Dismissing it clears the reason but keeps
which QBO vendor was suggested, so the next pass does not offer that vendor again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connector.errors import ConnectorError
from connector.models import AuditEvent, HeldRecord, SyncRun
from connector.sync.audit import Audit
from connector.sync.books import ensure_books
from connector.sync.holds import release_waiting, resolve
from connector.sync.transform import Held, Plan, currency_twin_name, new_vendor_currency, vendor_payload
from connector.sync.vendor_create import create_vendor
from connector.sync.writers import Writer
from mappings.models import AccountMapping, QBOAccount, QBOVendor, Source, VendorMapping
from mappings.normalise import (
    Candidate,
    Match,
    ProcurifyVendor,
    Suggestion,
    match_account,
    normalise_name,
    plan_vendor_matches,
)
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

AUTO_SOURCES = (Source.NONE,)  # only unmapped account rows are matched; auto and manual choices stay
SUGGESTION_PENDING = Q(qbo_vendor_id="") & ~Q(suggested_qbo_vendor_id="") & ~Q(suggestion_reason="")
NO_SUGGESTION = {"suggested_qbo_vendor_id": "", "suggested_qbo_vendor_name": "", "suggestion_reason": ""}


def vendor_candidates(organisation: Organisation) -> list[Candidate]:
    rows = QBOVendor.objects.filter(organisation=organisation)
    return [Candidate(v.qbo_id, v.display_name, active=v.active, currency=v.currency) for v in rows]


def account_candidates(organisation: Organisation) -> list[Candidate]:
    rows = QBOAccount.objects.filter(organisation=organisation).exclude(acct_num="")
    return [Candidate(a.qbo_id, a.fully_qualified_name or a.name, a.acct_num, a.active) for a in rows]


def has_pending_suggestion(mapping: VendorMapping) -> bool:
    return not mapping.qbo_vendor_id and bool(mapping.suggested_qbo_vendor_id and mapping.suggestion_reason)


@dataclass(frozen=True)
class Demoted:
    """An automatic mapping the rules no longer make: now unmapped, usually with a suggestion."""

    mapping: VendorMapping
    qbo_vendor_id: str
    qbo_vendor_name: str

    @property
    def message(self) -> str:
        why = self.mapping.suggestion_reason or "the names no longer match"
        return (
            f"Automatic match of vendor '{self.mapping.procurify_name}' to QuickBooks vendor "
            f"'{self.qbo_vendor_name}' withdrawn until a person confirms it: {why}."
        )


@dataclass(frozen=True)
class VendorMatchResult:
    """What a pass changed. Iterating gives the rows newly mapped, as callers did before."""

    matched: list[VendorMapping] = field(default_factory=list)
    demoted: list[Demoted] = field(default_factory=list)
    suggested: list[VendorMapping] = field(default_factory=list)  # a new or changed suggestion

    def __iter__(self) -> Iterator[VendorMapping]:
        return iter(self.matched)

    def __len__(self) -> int:
        return len(self.matched)


def auto_match_vendors(organisation: Organisation) -> VendorMatchResult:
    """Apply the vendor rules to every row: map, keep, demote to a suggestion, or suggest.

    Manual and created mappings are never changed. Each write is conditional on the row being as it
    was read, so a person's choice made during the pass wins. Newly mapped rows release their holds.
    """
    rows = list(VendorMapping.objects.filter(organisation=organisation))
    planned = [
        ProcurifyVendor(
            m.procurify_vendor_id,
            m.procurify_name,
            m.procurify_currency,
            m.qbo_vendor_id,
            automatic=m.source == Source.AUTO_NAME,
        )
        for m in rows
    ]
    plan = plan_vendor_matches(planned, vendor_candidates(organisation))
    result = VendorMatchResult()
    for mapping in rows:
        decision = plan[mapping.procurify_vendor_id]
        if decision.keep:
            _update(mapping, {k: v for k, v in NO_SUGGESTION.items() if getattr(mapping, k)})
        elif decision.match is not None:
            if _auto_map(mapping, decision.match):
                result.matched.append(mapping)
        else:
            _leave_unmapped(mapping, decision.suggestion, result)
    return result


def _update(mapping: VendorMapping, fields: dict[str, Any]) -> bool:
    """Write `fields` only if the row is still mapped as it was read; mirror them on `mapping`."""
    if not fields:
        return False
    unchanged = VendorMapping.objects.filter(
        pk=mapping.pk, qbo_vendor_id=mapping.qbo_vendor_id, source=mapping.source
    )
    if not unchanged.update(**fields):
        return False
    for name, value in fields.items():
        setattr(mapping, name, value)
    return True


def _auto_map(mapping: VendorMapping, match: Match) -> bool:
    fields = {
        "qbo_vendor_id": match.qbo_id,
        "qbo_vendor_name": match.name,
        "source": Source.AUTO_NAME,
        "reason": match.reason[:300],
        "decided_at": timezone.now(),
        "decided_by_id": None,
        **NO_SUGGESTION,
    }
    if not _update(mapping, fields):
        return False
    _release_vendor(mapping)
    return True


def _leave_unmapped(mapping: VendorMapping, suggestion: Suggestion | None, result: VendorMatchResult) -> None:
    previous = (mapping.qbo_vendor_id, mapping.qbo_vendor_name)
    fields: dict[str, Any] = {}
    if mapping.qbo_vendor_id:  # an automatic mapping the rules no longer make
        fields = {"qbo_vendor_id": "", "qbo_vendor_name": "", "source": Source.NONE, "reason": ""}
        fields |= {"decided_at": None, "decided_by_id": None}
    fields |= _suggestion_fields(mapping, suggestion)
    changed = {name: value for name, value in fields.items() if getattr(mapping, name) != value}
    if not _update(mapping, changed):
        return
    if previous[0]:
        result.demoted.append(Demoted(mapping, *previous))
    if has_pending_suggestion(mapping) and {"suggested_qbo_vendor_id", "suggestion_reason"} & set(changed):
        result.suggested.append(mapping)


def _suggestion_fields(mapping: VendorMapping, suggestion: Suggestion | None) -> dict[str, str]:
    dismissed = bool(mapping.suggested_qbo_vendor_id) and not mapping.suggestion_reason
    if suggestion is None:
        return {} if dismissed else dict(NO_SUGGESTION)
    if dismissed and mapping.suggested_qbo_vendor_id == suggestion.qbo_id:
        return {}  # a person already said no to this one
    return {
        "suggested_qbo_vendor_id": suggestion.qbo_id,
        "suggested_qbo_vendor_name": suggestion.name[:500],
        "suggestion_reason": suggestion.reason[:300],
    }


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
    organisation: Organisation,
    procurify_vendor_id: int,
    qbo_vendor_id: str,
    *,
    user: Any = None,
    reason: str = "Chosen by a person.",
) -> VendorMapping:
    """A person's choice: stored as manual (never overwritten) and every record waiting on it released."""
    qbo_vendor = QBOVendor.objects.get(organisation=organisation, qbo_id=qbo_vendor_id)
    with transaction.atomic():
        mapping = VendorMapping.objects.select_for_update().get(
            organisation=organisation, procurify_vendor_id=procurify_vendor_id
        )
        match = Match(qbo_vendor.qbo_id, qbo_vendor.display_name, reason)
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
    organisation: Organisation, procurify_vendor_id: int, qbo_id: str, name: str, currency: str = ""
) -> None:
    mapping = VendorMapping.objects.get(organisation=organisation, procurify_vendor_id=procurify_vendor_id)
    QBOVendor.objects.update_or_create(
        organisation=organisation,
        qbo_id=qbo_id,
        defaults={
            "display_name": name,
            "normalised_name": normalise_name(name),
            "active": True,
            "currency": currency,
        },
    )
    _apply_vendor(mapping, Match(qbo_id, name, "Created in QuickBooks by ml-connector."), Source.CREATED)


def _apply_vendor(mapping: VendorMapping, match: Match, source: str, *, user: Any = None) -> None:
    mapping.qbo_vendor_id, mapping.qbo_vendor_name = match.qbo_id, match.name
    mapping.source, mapping.reason = source, match.reason[:300]
    mapping.decided_at, mapping.decided_by = timezone.now(), user
    for name, value in NO_SUGGESTION.items():  # a mapped row has nothing left to suggest
        setattr(mapping, name, value)
    mapping.save()
    _release_vendor(mapping)


def _release_vendor(mapping: VendorMapping) -> None:
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
        object_type=VENDOR,
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
        object_type=VENDOR,
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

    The same function as the engine's vendor step (connector/sync/vendor_create.py), so a create the
    engine already made (or half-made) is found and adopted rather than duplicated. Raises
    VendorNotCreated with a sentence for the form; nothing is changed in that case.
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
    try:
        books = ensure_books(organisation, qbo)
        created = create_vendor(mapping, books, Writer(organisation, qbo), audit.for_record(VENDOR, key))
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
        object_type=VENDOR,
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
    if SyncRun.objects.filter(organisation=organisation, status__in=SyncRun.ACTIVE).exists():
        raise VendorNotCreated("A sync is running. Try again once it has finished.")
    base = mapping.qbo_vendor_name or mapping.procurify_name
    key = f"{mapping.procurify_vendor_id}:{currency}"  # not the vendor's own key: that one is taken
    audit = Audit(organisation)
    by = getattr(user, "email", "") or "someone"
    try:
        new_vendor_currency(base, currency, books)  # holds when multicurrency is off
        payload = vendor_payload(currency_twin_name(base, currency), currency=currency)
        plan = Plan("Vendor", payload, f"Vendor {payload['DisplayName']}", key, "", None)
        result = Writer(organisation, qbo).write(VENDOR, key, plan, audit.for_record(VENDOR, key))
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
        object_type=VENDOR,
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
    if exc.reason_code == "duplicate_vendor_name":
        return DUPLICATE_NAME_SENTENCE.format(name=name)
    return exc.message
