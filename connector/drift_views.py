"""The drift page: what someone changed, deleted or paid in QuickBooks, with field diffs and the choices
a person makes (connector/sync/drift_actions.py)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connector.dispatch import queue_replay
from connector.drift_choices import choices
from connector.errors import ConnectorError
from connector.kinds import DOCUMENTS
from connector.models import QBODrift
from connector.sync import drift_actions
from tenants.access import OrgRequest, org_view

PAGE_SIZE = 50


@org_view
def drift_list(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    rows = (
        QBODrift.objects.filter(organisation=organisation)
        .annotate(
            open_first=Case(
                When(state=QBODrift.State.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("open_first", "-detected_at", "-id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for drift in page.object_list:
        drift.choices = choices(drift)
    context = {
        "org": organisation,
        "page": page,
        "can_write": request.membership.can_write,
    }
    return render(request, "connector/drift_list.html", context)


@org_view
@require_POST
def drift_decide(request: OrgRequest, drift_id: str) -> HttpResponse:
    organisation = request.organisation
    drift = get_object_or_404(QBODrift, organisation=organisation, public_id=drift_id)
    action = request.POST.get("action", "")
    try:
        write = drift_actions.decide(drift, action, by=request.user.email)
    except ConnectorError as exc:
        messages.error(request, f"{drift.label}: {exc.message}")
    else:
        if write and drift.object_type in DOCUMENTS:
            queue_replay(organisation, drift.object_type, drift.procurify_id)
        messages.success(request, f"{drift.label}: {drift_actions.SENTENCES[action]}.")
    return redirect((request.POST.get("next_record") and _record_url(drift)) or _list_url(drift))


def _list_url(drift: QBODrift) -> str:
    return reverse("connector-drift", args=[drift.organisation.public_id])


def _record_url(drift: QBODrift) -> str:
    return reverse(
        "connector-record", args=[drift.organisation.public_id, drift.object_type, drift.procurify_id]
    )
