"""Mapping screens: the vendor and account tables, inline change (htmx) with a plain-POST fallback,
and the vendor suggestions a person confirms or dismisses.

Thin: org_view → form → mappings.services (which releases the holds a mapping unblocks) → render.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import ChoiceField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from connector import activity
from connector.clients import CLIENTS
from connector.errors import ConnectorError
from mappings import services
from mappings.forms import MappingChoiceForm, MappingFilterForm
from mappings.mapping_table import (
    KINDS,
    Kind,
    filtered,
    mapping_rows,
    qbo_options,
    released_sentence,
    status_counts,
    waiting_by_type,
)
from mappings.models import VendorMapping
from tenants.access import OrgRequest, org_view
from tenants.models import Organisation

PAGE_SIZE = 50


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _kind(slug: str) -> Kind:
    if slug not in KINDS:
        raise Http404("No such mapping table.")
    return KINDS[slug]


def _row_context(request: OrgRequest, kind: Kind, mapping: Any, **extra: Any) -> dict[str, Any]:
    return {
        "org": request.organisation,
        "kind": kind,
        "m": mapping,
        "can_write": request.membership.can_write,
        "next": _safe_next(request),
        "back": _safe_next(request)
        or reverse("mappings-list", args=[request.organisation.public_id, kind.slug]),
        **extra,
    }


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return ""


@org_view
def index(request: OrgRequest) -> HttpResponse:
    return redirect("mappings-list", org_id=request.organisation.public_id, kind="vendors")


@org_view
def mapping_list(request: OrgRequest, kind: str) -> HttpResponse:
    table = _kind(kind)
    organisation = request.organisation
    form = MappingFilterForm(request.GET)
    cast(ChoiceField, form.fields["status"]).choices = table.statuses
    filters = form.values()
    page = Paginator(filtered(table, organisation, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "org": organisation,
        "organisation": organisation,
        "kind": table,
        "form": form,
        "filters": filters,
        "page": page,
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "status_counts": status_counts(table, organisation),
        "can_write": request.membership.can_write,
        "next": request.get_full_path(),
    }
    return render(request, "mappings/list.html", context)


@org_view(writers_only=True)
def mapping_edit(request: OrgRequest, kind: str, mapping_id: str) -> HttpResponse:
    """GET: the edit form (a row for htmx, a page otherwise). POST: save and release the holds."""
    table = _kind(kind)
    organisation = request.organisation
    mapping = get_object_or_404(mapping_rows(table, organisation), public_id=mapping_id)
    if request.method == "GET" and request.GET.get("view") == "row":
        return render(request, "mappings/_row.html", _row_context(request, table, mapping))
    form = MappingChoiceForm(
        request.POST or None,
        organisation=organisation,
        qbo_model=table.qbo_model,
        noun=table.noun,
        initial={"qbo_id": getattr(mapping, table.qbo_id_field)},
    )
    if request.method == "POST" and form.is_valid():
        notice = _save(request, table, mapping, form.cleaned_data["qbo_id"])
        if is_htmx(request):
            fresh = mapping_rows(table, organisation).get(pk=mapping.pk)
            return render(request, "mappings/_row.html", _row_context(request, table, fresh, notice=notice))
        messages.success(request, notice)
        return redirect(_safe_next(request) or reverse("mappings-list", args=[organisation.public_id, kind]))
    context = _row_context(request, table, mapping, form=form, options=qbo_options(table, organisation))
    if is_htmx(request):
        return render(request, "mappings/_row_edit.html", context)
    status = 400 if request.method == "POST" else 200
    return render(request, "mappings/edit.html", context, status=status)


def _save(request: OrgRequest, kind: Kind, mapping: Any, qbo_id: str) -> str:
    organisation = request.organisation
    by_type = waiting_by_type(organisation, kind, mapping)
    saved = kind.save(organisation, getattr(mapping, kind.key_field), qbo_id, user=request.user)
    name = getattr(saved, kind.name_field)
    sentence = f"{name} now maps to QuickBooks {kind.noun} '{getattr(saved, kind.qbo_name_field)}'."
    activity.record(
        organisation,
        request.user,
        f"Mapped {name} to '{getattr(saved, kind.qbo_name_field)}'",
        action="mapping_saved",
        kind=kind.noun,
        qbo_id=qbo_id,
    )
    return f"{sentence} {released_sentence(by_type)}"


@org_view
@require_POST
def auto_match(request: OrgRequest, kind: str) -> HttpResponse:
    """Run the automatic matching rules again over every unmapped row (manual choices stay)."""
    table = _kind(kind)
    organisation = request.organisation
    if table.slug == "vendors":
        _vendor_match_messages(request, organisation, services.auto_match_vendors(organisation))
        return redirect("mappings-list", org_id=organisation.public_id, kind=kind)
    matched = services.auto_match_accounts(organisation)
    if matched:
        messages.success(
            request, f"Matched {len(matched)} {table.noun}s automatically; their holds are released."
        )
    else:
        messages.info(request, f"No unmapped {table.noun} has exactly one QuickBooks match.")
    return redirect("mappings-list", org_id=organisation.public_id, kind=kind)


def _vendor_match_messages(
    request: HttpRequest, organisation: Organisation, result: services.VendorMatchResult
) -> None:
    if result.matched:
        messages.success(
            request, f"Matched {len(result.matched)} vendors automatically; their holds are released."
        )
    if d := len(result.demoted):
        messages.warning(
            request,
            f"Withdrew {d} automatic match{'' if d == 1 else 'es'} that may be a different company; "
            "a suggestion waits for you to confirm instead.",
        )
    waiting = VendorMapping.objects.filter(services.SUGGESTION_PENDING, organisation=organisation)
    if n := waiting.count():
        messages.info(
            request,
            f"{n} suggested match{'' if n == 1 else 'es'} wait{'s' if n == 1 else ''} for you to confirm.",
        )
    if not (result.matched or result.demoted or n):
        messages.info(request, "No unmapped vendor has exactly one QuickBooks match.")


@org_view
@require_POST
def suggestion_confirm(request: OrgRequest, mapping_id: str) -> HttpResponse:
    """The suggested QuickBooks vendor is this company: map it as a person's choice, release the holds."""
    return _settle_suggestion(request, mapping_id, confirm=True)


@org_view
@require_POST
def suggestion_dismiss(request: OrgRequest, mapping_id: str) -> HttpResponse:
    """The suggested QuickBooks vendor is another company: leave the row unmapped, do not suggest it again."""
    return _settle_suggestion(request, mapping_id, confirm=False)


def _settle_suggestion(request: OrgRequest, mapping_id: str, *, confirm: bool) -> HttpResponse:
    table = KINDS["vendors"]
    organisation = request.organisation
    mapping = get_object_or_404(mapping_rows(table, organisation), public_id=mapping_id)
    seen = request.POST.get("qbo_id") or None  # the vendor the person saw; a changed suggestion is refused
    error = ""
    try:
        if confirm:
            by_type = waiting_by_type(organisation, table, mapping)
            saved = services.confirm_vendor_suggestion(mapping, request.user, qbo_vendor_id=seen)
            notice = (
                f"{saved.procurify_name} now maps to QuickBooks vendor '{saved.qbo_vendor_name}'. "
                f"{released_sentence(by_type)}"
            )
        else:
            saved = services.dismiss_vendor_suggestion(mapping, request.user, qbo_vendor_id=seen)
            notice = (
                f"Suggestion dismissed: {saved.procurify_name} stays unmapped. "
                "Choose its QuickBooks vendor with Change, or create it in QuickBooks."
            )
    except services.SuggestionGone as exc:
        notice, error = "", exc.message
    if is_htmx(request):
        fresh = mapping_rows(table, organisation).get(pk=mapping.pk)
        context = _row_context(request, table, fresh, notice=notice, error=error)
        return render(request, "mappings/_row.html", context)  # htmx swaps only 2xx answers
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(_safe_next(request) or reverse("mappings-list", args=[organisation.public_id, "vendors"]))


@org_view
@require_POST
def vendor_create(request: OrgRequest, mapping_id: str) -> HttpResponse:
    """Create an unmapped Procurify vendor in QuickBooks; a refusal becomes a form error, not a crash."""
    table = KINDS["vendors"]
    organisation = request.organisation
    mapping = get_object_or_404(mapping_rows(table, organisation), public_id=mapping_id)
    try:
        created = services.create_qbo_vendor(
            organisation, mapping, qbo=CLIENTS.qbo(organisation), user=request.user
        )
    except (services.VendorNotCreated, ConnectorError) as exc:
        return _create_refused(request, table, mapping, exc.message)
    notice = f"Created '{created.name}' in QuickBooks and mapped {mapping.procurify_name} to it."
    if created.released:
        notice += " " + released_sentence(Counter({"record": created.released}))
    if is_htmx(request):
        fresh = mapping_rows(table, organisation).get(pk=mapping.pk)
        return render(request, "mappings/_row.html", _row_context(request, table, fresh, notice=notice))
    messages.success(request, notice)
    return redirect(_safe_next(request) or reverse("mappings-list", args=[organisation.public_id, "vendors"]))


@org_view
@require_POST
def vendor_currency_twin(request: OrgRequest, mapping_id: str, currency: str) -> HttpResponse:
    """Create "<vendor> (<currency>)" in QuickBooks for bills its mapped vendor cannot take."""
    organisation = request.organisation
    mapping = get_object_or_404(mapping_rows(KINDS["vendors"], organisation), public_id=mapping_id)
    try:
        created = services.create_currency_twin(
            organisation, mapping, currency, qbo=CLIENTS.qbo(organisation), user=request.user
        )
    except (services.VendorNotCreated, ConnectorError) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Created '{created.name}' in QuickBooks and mapped {mapping.procurify_name} to it; "
            f"{created.released} held record(s) will be retried on the next run.",
        )
    return redirect(_safe_next(request) or reverse("mappings-list", args=[organisation.public_id, "vendors"]))


def _create_refused(request: OrgRequest, table: Kind, mapping: Any, error: str) -> HttpResponse:
    organisation = request.organisation
    form = MappingChoiceForm(
        None, organisation=organisation, qbo_model=table.qbo_model, noun=table.noun, initial={"qbo_id": ""}
    )
    context = _row_context(
        request, table, mapping, form=form, options=qbo_options(table, organisation), create_error=error
    )
    template = "mappings/_row_edit.html" if is_htmx(request) else "mappings/edit.html"
    # htmx swaps only 2xx answers by default; the error is shown in the row it replaces.
    return render(request, template, context, status=200 if is_htmx(request) else 400)
