"""Tax code, class and location mappings: rows from what Procurify shows, suggestions a person
confirms, saves that release the held bills waiting on them, and the organisation's placement choice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from connector.hold_reasons import ReasonCode
from connector.models import HeldRecord
from connector.sync.holds import release_waiting
from connector.sync.tax import tax_key
from mappings.dimension_models import (
    ClassMapping,
    DimensionSettings,
    LocationMapping,
    QBOClass,
    QBOLocation,
    QBOTaxCode,
    TaxMapping,
)
from mappings.models import BooksProfile
from mappings.normalise import normalise_name
from tenants.models import Organisation


@dataclass(frozen=True)
class Table:
    """What differs between the tax, class and location mappings."""

    slug: str
    noun: str
    model: type[TaxMapping | ClassMapping | LocationMapping]
    qbo_model: type[QBOTaxCode | QBOClass | QBOLocation]
    waiting_on_type: str
    key_field: str


TABLES = {
    "tax": Table("tax", "tax code", TaxMapping, QBOTaxCode, "tax_mapping", "key"),
    "class": Table("class", "class", ClassMapping, QBOClass, "class_mapping", "procurify_department_id"),
    "location": Table(
        "location", "location", LocationMapping, QBOLocation, "location_mapping", "procurify_location_id"
    ),
}


# ---- rows -----------------------------------------------------------------------------------------


def note_held_taxes(organisation: Organisation) -> int:
    """A tax row for every tax a held bill names that has none yet (Procurify has no list of taxes:
    bills are where they show up). Returns how many rows were added."""
    held = HeldRecord.objects.filter(
        organisation=organisation, state=HeldRecord.State.HELD, waiting_on_type="tax_mapping"
    ).values_list("waiting_on_key", "detail")
    known = set(TaxMapping.objects.filter(organisation=organisation).values_list("key", flat=True))
    added = 0
    for key, detail in held:
        if key in known:
            continue
        name = str((detail or {}).get("tax_name", ""))[:100]
        try:
            pct = Decimal(str((detail or {}).get("tax_percentage", "0")))
        except InvalidOperation:
            continue
        if tax_key(name, pct) != key:
            continue  # a hold from an older key shape: it is re-made with the right one on retry
        TaxMapping.objects.get_or_create(
            organisation=organisation, key=key, defaults={"tax_name": name, "tax_percentage": pct}
        )
        known.add(key)
        added += 1
    suggest_taxes(organisation)
    return added


def note_departments(organisation: Organisation, departments: Iterable[Any]) -> None:
    """A class row per Procurify department, a location row per branch, each with a name suggestion."""
    for department in departments:
        branch = department.branch
        ClassMapping.objects.update_or_create(
            organisation=organisation,
            procurify_department_id=department.id,
            defaults={"name": department.name[:200], "location_name": (branch.name if branch else "")[:200]},
        )
        if branch is not None:
            LocationMapping.objects.update_or_create(
                organisation=organisation,
                procurify_location_id=branch.id,
                defaults={"name": branch.name[:200]},
            )
    _suggest_by_name(organisation, ClassMapping, QBOClass)
    _suggest_by_name(organisation, LocationMapping, QBOLocation)


# ---- suggestions ----------------------------------------------------------------------------------


def code_rate(code: QBOTaxCode) -> Decimal:
    return sum((Decimal(str(pct)) for _rid, pct in code.purchase_rates), Decimal(0))


def suggest_taxes(organisation: Organisation) -> None:
    """By rate and name: a usable code with the same combined purchase rate, the one of the same
    name first. Only ever a suggestion: the wrong code files the wrong tax return."""
    codes = [c for c in QBOTaxCode.objects.filter(organisation=organisation, active=True) if c.purchase_rates]
    for mapping in TaxMapping.objects.filter(organisation=organisation, qbo_id=""):
        same_rate = [c for c in codes if code_rate(c) == mapping.tax_percentage]
        named = [c for c in same_rate if normalise_name(c.name) == normalise_name(mapping.tax_name)]
        pct = f"{mapping.tax_percentage.normalize():f}%"
        if len(named) == 1:
            pick, why = named[0], f"Same name and purchase rate ({pct})."
        elif len(same_rate) == 1:
            pick, why = same_rate[0], f"The only QuickBooks purchase tax code at {pct}."
        else:
            pick, why = None, ""
        _set_suggestion(mapping, pick.qbo_id if pick else "", pick.name if pick else "", why)


def _suggest_by_name(
    organisation: Organisation,
    model: type[ClassMapping | LocationMapping],
    qbo_model: type[QBOClass | QBOLocation],
) -> None:
    options = list(qbo_model._default_manager.filter(organisation=organisation, active=True))
    for mapping in model._default_manager.filter(organisation=organisation, qbo_id=""):
        wanted = normalise_name(mapping.name)
        exact = [o for o in options if normalise_name(o.name) == wanted]
        # "Vancouver HQ" in Procurify, "Vancouver" in QuickBooks: one name inside the other.
        close = [o for o in options if normalise_name(o.name) in wanted or wanted in normalise_name(o.name)]
        if len(exact) == 1:
            _set_suggestion(mapping, exact[0].qbo_id, exact[0].name, "Same name.")
        elif len(close) == 1:
            _set_suggestion(mapping, close[0].qbo_id, close[0].name, "Similar name.")
        else:
            _set_suggestion(mapping, "", "", "")


def _set_suggestion(mapping: Any, qbo_id: str, name: str, reason: str) -> None:
    if (mapping.suggested_qbo_id, mapping.suggested_qbo_name) != (qbo_id, name):
        mapping.suggested_qbo_id, mapping.suggested_qbo_name = qbo_id, name[:200]
        mapping.suggestion_reason = reason[:300]
        mapping.save(update_fields=["suggested_qbo_id", "suggested_qbo_name", "suggestion_reason"])


# ---- a person's choice ----------------------------------------------------------------------------


def save_mapping(
    organisation: Organisation, slug: str, public_id: Any, qbo_id: str, *, user: Any = None
) -> int:
    """Map one row to a QuickBooks object of this organisation; returns how many holds it released."""
    table = TABLES[slug]
    target = table.qbo_model._default_manager.get(organisation=organisation, qbo_id=qbo_id)
    with transaction.atomic():
        mapping = table.model._default_manager.select_for_update().get(
            organisation=organisation, public_id=public_id
        )
        mapping.qbo_id, mapping.qbo_name = target.qbo_id, target.name[:200]
        mapping.source, mapping.decided_at, mapping.decided_by = "manual", timezone.now(), user
        mapping.suggested_qbo_id = mapping.suggested_qbo_name = mapping.suggestion_reason = ""
        mapping.save()
    released = release_waiting(organisation, table.waiting_on_type, str(getattr(mapping, table.key_field)))
    if slug == "tax":
        # A bill whose tax QuickBooks would compute differently may agree under the new code.
        released += HeldRecord.objects.filter(
            organisation=organisation, state=HeldRecord.State.HELD, reason_code=ReasonCode.TAX_TOTAL_MISMATCH
        ).update(state=HeldRecord.State.RELEASED, released_at=timezone.now())
    return released


def save_settings(
    organisation: Organisation, class_placement: str, location_on_bill: bool
) -> DimensionSettings:
    """Only what the QuickBooks company has switched on can be chosen (a company without classes
    keeps "no classes"); holds waiting on a placement do not exist, so nothing is released here."""
    profile = BooksProfile.objects.filter(organisation=organisation).first()
    if class_placement and not (profile and profile.qbo_class_tracking):
        raise ValueError("Class tracking is off in QuickBooks; turn it on there first.")
    if location_on_bill and not (profile and profile.qbo_track_locations):
        raise ValueError("Location tracking is off in QuickBooks; turn it on there first.")
    if class_placement not in DimensionSettings.ClassPlacement.values:
        raise ValueError(f"Unknown class placement {class_placement!r}.")
    settings, _ = DimensionSettings.objects.update_or_create(
        organisation=organisation,
        defaults={"class_placement": class_placement, "location_on_bill": location_on_bill},
    )
    return settings


def notices(organisation: Organisation) -> list[str]:
    """What the organisation chose that the QuickBooks company no longer allows (not a failure: the
    bills go without it)."""
    settings = DimensionSettings.objects.filter(organisation=organisation).first()
    profile = BooksProfile.objects.filter(organisation=organisation).first()
    out = []
    if settings and settings.class_placement and not (profile and profile.qbo_class_tracking):
        out.append("Class tracking is off in QuickBooks, so bills are sent without classes.")
    if settings and settings.location_on_bill and not (profile and profile.qbo_track_locations):
        out.append("Location tracking is off in QuickBooks, so bills are sent without a location.")
    if (
        settings
        and settings.class_placement == "line"
        and profile
        and profile.qbo_class_tracking == "transaction"
    ):
        out.append("QuickBooks tracks one class per bill in this company, so each bill gets a single class.")
    return out
