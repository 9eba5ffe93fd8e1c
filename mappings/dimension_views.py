"""The "Tax, classes and locations" page: the tax code, class and location mappings and where classes
and the location go. Sections only show what the QuickBooks company uses; a company without them gets
a sentence, not a form. Thin: org_view → dimension_services (which releases the holds) → render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from connector import activity
from mappings import dimension_services
from mappings.dimension_models import DimensionSettings, QBOTaxCode, TaxMapping
from mappings.dimension_services import TABLES, Table
from mappings.mapping_table import held_count
from mappings.models import BooksProfile
from tenants.access import OrgRequest, org_view
from tenants.models import Organisation


def _rows(table: Table, organisation: Organisation) -> list[Any]:
    rows = table.model._default_manager.filter(organisation=organisation).annotate(
        held_count=held_count(organisation, table.waiting_on_type, table.key_field)
    )
    return list(rows)


def _options(table: Table, organisation: Organisation) -> list[tuple[str, str]]:
    rows = table.qbo_model._default_manager.filter(organisation=organisation, active=True)
    if table.slug == "tax":  # a code with no purchase rate cannot go on a bill
        return [
            (c.qbo_id, f"{c.name} ({dimension_services.code_rate(c).normalize():f}%)")
            for c in rows
            if isinstance(c, QBOTaxCode) and c.purchase_rates
        ]
    return [(o.qbo_id, o.name) for o in rows]


@org_view
def page(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    profile = BooksProfile.objects.filter(organisation=organisation).first()
    if profile and profile.qbo_line_tax:
        dimension_services.note_held_taxes(organisation)  # taxes show up on bills, not in a list
    settings = DimensionSettings.objects.filter(organisation=organisation).first()
    sections = []
    shown = {
        "tax": bool(profile and profile.qbo_line_tax),
        "class": bool(profile and profile.qbo_class_tracking),
        "location": bool(profile and profile.qbo_track_locations),
    }
    for slug, table in TABLES.items():
        if shown[slug]:
            sections.append(
                {"table": table, "rows": _rows(table, organisation), "options": _options(table, organisation)}
            )
    context = {
        "org": organisation,
        "profile": profile,
        "sections": sections,
        "settings": settings,
        "placements": DimensionSettings.ClassPlacement.choices,
        "notices": dimension_services.notices(organisation),
        "can_write": request.membership.can_write,
    }
    return render(request, "mappings/dimensions.html", context)


@org_view
@require_POST
def save(request: OrgRequest, slug: str, mapping_id: str) -> HttpResponse:
    organisation = request.organisation
    table = TABLES.get(slug)
    if table is None:
        raise Http404("Unknown table.")
    mapping = table.model._default_manager.filter(organisation=organisation, public_id=mapping_id).first()
    qbo_id = request.POST.get("qbo_id", "")
    if (
        mapping is None
        or not table.qbo_model._default_manager.filter(
            organisation=organisation, qbo_id=qbo_id, active=True
        ).exists()
    ):
        raise Http404("No such mapping or QuickBooks object.")
    released = dimension_services.save_mapping(organisation, slug, mapping_id, qbo_id, user=request.user)
    mapping.refresh_from_db()
    name = mapping.label if isinstance(mapping, TaxMapping) else mapping.name
    activity.record(
        organisation,
        request.user,
        f"Mapped '{name}' to QuickBooks {table.noun} '{mapping.qbo_name}'; {released} held bill(s) released.",
        action=f"map_{slug}",
        qbo_id=qbo_id,
    )
    messages.success(request, f"Saved. {released} held bill(s) will sync on the next run.")
    return redirect("mappings-dimensions", org_id=organisation.public_id)


@org_view
@require_POST
def save_settings(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    placement, location = (
        request.POST.get("class_placement", ""),
        request.POST.get("location_on_bill") == "on",
    )
    try:
        dimension_services.save_settings(organisation, placement, location)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        activity.record(
            organisation,
            request.user,
            f"Set classes to '{placement or 'off'}' and the location on bills {'on' if location else 'off'}.",
            action="dimension_settings",
        )
        messages.success(request, "Saved: the next bills written use these settings.")
    return redirect("mappings-dimensions", org_id=organisation.public_id)
