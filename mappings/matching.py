"""Mapping rows and the holds they release: auto-match (issue 5, item 2; issue 10, item 4), apply a match
or a person's choice, note a vendor the engine created. The engine's reference step calls this during a
run, so it needs nothing above the engine; mappings/services.py builds the pages' actions on it.

A manual choice is never overwritten; every automatic match records why. Vendors: automatic only for the
same legal entity, one Procurify vendor per QBO vendor; anything less is a suggestion a person confirms
(mappings.normalise has the rules).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connector.kinds import RecordKind
from connector.sync.holds import release_waiting, resolve
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
            apply_account(mapping, found, Source.AUTO_NUMBER)
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
        apply_vendor(mapping, match, Source.MANUAL, user=user)
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
        apply_account(
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
    apply_vendor(mapping, Match(qbo_id, name, "Created in QuickBooks by ml-connector."), Source.CREATED)


def apply_vendor(mapping: VendorMapping, match: Match, source: str, *, user: Any = None) -> None:
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
    resolve(mapping.organisation, RecordKind.VENDOR, key)  # a vendor held for a name clash is settled


def apply_account(mapping: AccountMapping, match: Match, source: str, *, user: Any = None) -> None:
    mapping.qbo_account_id, mapping.qbo_account_name = match.qbo_id, match.name
    mapping.source, mapping.reason = source, match.reason[:300]
    mapping.decided_at, mapping.decided_by = timezone.now(), user
    mapping.save()
    release_waiting(mapping.organisation, "account_mapping", str(mapping.procurify_account_code_id))
