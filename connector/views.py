"""Sync pages: held records, a record's audit timeline, runs, sync now and its progress, sync settings.

Thin: org_view → form → presenter (held_list, record_page, dashboard) or engine service → render.
Everything is filtered by request.organisation and looked up by public UUID inside it.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from connector import dashboard, finance, kinds, record_page
from connector.clients import CLIENTS
from connector.dispatch import queue_replay, start_run
from connector.errors import ConnectorError
from connector.finder import FinderForm
from connector.forms import IgnoreForm, RunFilterForm, SyncSettingsForm
from connector.held_list import page as held_page
from connector.held_list import release
from connector.hold_reasons import REMOVALS, ReasonCode
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from connector.record_links import labels, record_path
from connector.sync import holds, removal, runs, start_gate
from connector.sync.audit import Audit
from mappings.views import is_htmx
from tenants import limits
from tenants.access import OrgRequest, org_view
from tenants.models import Organisation, SyncSchedule

PAGE_SIZE = 50


# ---- held records ----------------------------------------------------------------------------------


@org_view
def held_list(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    form = FinderForm(request.GET, with_state=False)
    context = {
        "org": organisation,
        "form": form,
        "query": form.query_string(),
        **held_page(organisation, form, request.GET.get("page")),
        "has_run": SyncRun.objects.for_org(organisation).filter(status=SyncRun.Status.SUCCEEDED).exists(),
        "can_write": request.membership.can_write,
        "removal_reasons": REMOVALS,
    }
    return render(request, "connector/held_list.html", context)


@org_view
@require_POST
def held_retry(request: OrgRequest, held_id: str) -> HttpResponse:
    organisation = request.organisation
    held = get_object_or_404(HeldRecord.objects.for_org(organisation).open(), public_id=held_id)
    release(HeldRecord.objects.filter(pk=held.pk))
    messages.success(request, f"{held.label or held.procurify_id} will be retried on the next run.")
    return redirect("connector-held", org_id=organisation.public_id)


@org_view
@require_POST
def held_retry_all(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    count = release(HeldRecord.objects.for_org(organisation).open())
    messages.success(
        request, f"{count} held record{'s' if count != 1 else ''} will be retried on the next run."
    )
    return redirect("connector-held", org_id=organisation.public_id)


@org_view
def held_ignore(request: OrgRequest, held_id: str) -> HttpResponse:
    organisation = request.organisation
    held = get_object_or_404(HeldRecord.objects.for_org(organisation).open(), public_id=held_id)
    form = IgnoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _ignore(request, held, form.cleaned_data["comment"])
        messages.success(
            request, f"{held.label or held.procurify_id} is ignored; the comment is in its audit trail."
        )
        return redirect("connector-held", org_id=organisation.public_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "connector/held_ignore.html",
        {"org": organisation, "held": held, "form": form},
        status=status,
    )


@org_view
@require_POST
def held_delete_in_qbo(request: OrgRequest, held_id: str) -> HttpResponse:
    """A bill removed in Procurify after it reached QuickBooks: delete it there, on a person's word."""
    organisation = request.organisation
    held = get_object_or_404(
        HeldRecord.objects.for_org(organisation).open().filter(reason_code__in=REMOVALS),
        public_id=held_id,
    )
    try:
        removal.delete_in_qbo(held, by=request.user.email, clients=CLIENTS)
    except ConnectorError as exc:
        messages.error(request, f"{held.label} was not deleted in QuickBooks: {exc.message}")
    else:
        messages.success(request, f"{held.label} was deleted in QuickBooks; its audit trail says by whom.")
    return redirect("connector-held", org_id=organisation.public_id)


def _ignore(request: OrgRequest, held: HeldRecord, comment: str) -> None:
    with transaction.atomic():
        holds.resolve(held.organisation, held.object_type, held.procurify_id)
        if held.reason_code in REMOVALS:
            removal.keep(held)  # the daily sweep must not ask again
        Audit(held.organisation).record(
            AuditEvent.Kind.DECISION,
            f"Ignored by {request.user.email}: {comment}",
            object_type=held.object_type,
            procurify_id=held.procurify_id,
            data={
                "action": "ignored",
                "comment": comment,
                "by": request.user.email,
                "reason_code": held.reason_code,
            },
        )


# ---- one record ------------------------------------------------------------------------------------


@org_view
def record_detail(request: OrgRequest, object_type: str, procurify_id: str) -> HttpResponse:
    organisation = request.organisation
    if object_type not in kinds.PAGE_LABELS:
        raise Http404("No such record type.")
    context = record_page.build(organisation, object_type, procurify_id)
    if context is None:
        raise Http404("No such record.")
    context |= {"org": organisation, "can_write": request.membership.can_write}
    return render(request, "connector/record.html", context)


@org_view
@require_POST
def record_replay(request: OrgRequest, object_type: str, procurify_id: str) -> HttpResponse:
    organisation = request.organisation
    if object_type not in kinds.DOCUMENTS:
        raise Http404("Only bills and purchase orders can be replayed.")
    if not _is_known(organisation, object_type, procurify_id):
        raise Http404("No such record.")
    back = redirect(
        "connector-record", org_id=organisation.public_id, object_type=object_type, procurify_id=procurify_id
    )
    if SyncRun.objects.for_org(organisation).active().exists():
        messages.warning(request, "A sync is running. Replay this record once it has finished.")
        return back
    if refused := limits.allow(organisation, limits.REPLAY):
        messages.warning(request, refused)
        return back
    queue_replay(organisation, object_type, procurify_id)
    Audit(organisation).record(
        AuditEvent.Kind.DECISION,
        f"Replay asked for by {request.user.email}.",
        object_type=object_type,
        procurify_id=procurify_id,
        data={"action": "replay", "by": request.user.email},
    )
    messages.info(request, "Replay queued — refresh in a few seconds.")
    return back


def _is_known(organisation: Organisation, object_type: str, procurify_id: str) -> bool:
    scope = {"organisation": organisation, "object_type": object_type, "procurify_id": procurify_id}
    return any(model.objects.filter(**scope).exists() for model in (ExternalRecord, HeldRecord, AuditEvent))


# ---- runs ------------------------------------------------------------------------------------------


@org_view
def run_list(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    form = RunFilterForm(request.GET)
    status = form.status_value()
    rows = SyncRun.objects.filter(organisation=organisation)
    if status:
        rows = rows.filter(status=status)
    page = Paginator(rows.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"org": organisation, "form": form, "status": status, "page": page}
    return render(request, "connector/run_list.html", context)


@org_view
def run_detail(request: OrgRequest, run_id: str) -> HttpResponse:
    organisation = request.organisation
    run = get_object_or_404(SyncRun, organisation=organisation, public_id=run_id)
    touched = (
        finance.run_rows(organisation, run)
        .annotate(events=Count("id"), last_at=Max("created_at"))
        .order_by("-last_at", "procurify_id")
    )
    page = Paginator(touched, PAGE_SIZE).get_page(request.GET.get("page"))
    found = labels(organisation, page.object_list)
    for row in page.object_list:
        row["label"] = found.get((row["object_type"], row["procurify_id"]), row["procurify_id"])
        row["url"] = record_path(organisation, row["object_type"], row["procurify_id"])
    finance.attach_amounts(organisation, list(page.object_list))
    errors = AuditEvent.objects.filter(organisation=organisation, run=run, kind=AuditEvent.Kind.ERROR)
    context = {
        "org": organisation,
        "run": run,
        "page": page,
        "errors": errors[:20],
        "types": kinds.PAGE_LABELS,
        "totals": finance.run_totals(organisation, run),
    }
    return render(request, "connector/run_detail.html", context)


# ---- sync now, progress, settings ----------------------------------------------------------------


@org_view
@require_POST
def sync_now(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    if not start_gate.has_started(organisation):  # the first write waits for "Start syncing"
        messages.warning(request, start_gate.WAITING)
    elif refused := limits.allow(organisation, limits.SYNC_NOW):
        messages.warning(request, refused)
    elif start_run(organisation, SyncRun.Trigger.MANUAL) is None:
        messages.info(request, "A sync is already queued or running; it will pick up the latest changes.")
    else:
        messages.success(request, "Sync queued. Progress shows below.")
    return redirect("tenants-dashboard", org_id=organisation.public_id)


@org_view
@require_POST
def start_syncing(request: OrgRequest) -> HttpResponse:
    """An owner/admin, having seen the preview, lets the first sync write (connector/sync/start_gate.py)."""
    organisation = request.organisation
    if refused := start_gate.start(organisation, request.user, timezone.now()):
        messages.warning(request, refused)
        return redirect("connector-preview", org_id=organisation.public_id)
    if start_run(organisation, SyncRun.Trigger.MANUAL) is None:
        messages.success(
            request, "Syncing started. A sync is already running; the schedule continues after it."
        )
    else:
        messages.success(request, "Syncing started. The first sync is queued; progress shows below.")
    return redirect("tenants-dashboard", org_id=organisation.public_id)


@org_view
def sync_progress(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    context = {"org": organisation, **dashboard.sync_card(organisation)}  # the dashboard's own card
    response = render(request, "connector/_progress.html", context)
    if is_htmx(request) and context["active"] is None:
        # Only a running sync polls; once it ends, reload the page so totals and held counts are current.
        response["HX-Refresh"] = "true"
    return response


@org_view
def sync_settings(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    schedule = SyncSchedule.objects.filter(organisation=organisation).first() or SyncSchedule(
        organisation=organisation
    )
    form = SyncSettingsForm(request.POST or None, instance=schedule, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        schedule = form.save(commit=False)
        schedule.next_run_at = (
            runs.next_run_at(schedule, timezone.now(), organisation.time_zone) if schedule.enabled else None
        )
        schedule.save()
        organisation.save(update_fields=["create_missing_vendors", "closed_period_policy"])
        released = holds.release_reason(organisation, ReasonCode.BOOKS_CLOSED)  # the choice may free them
        messages.success(
            request,
            "Sync settings saved." + (f" {released} held bill(s) retried next run." if released else ""),
        )
        return redirect("connector-settings", org_id=organisation.public_id)
    context = {
        "org": organisation,
        "form": form,
        "schedule": schedule,
        "can_write": request.membership.can_write,
    }
    return render(request, "connector/settings.html", context, status=400 if form.errors else 200)
