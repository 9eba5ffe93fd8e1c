"""The drift page: what someone changed, deleted or paid in QuickBooks, with field diffs and the choices
a person makes (connector/sync/drift_actions.py)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from connector.errors import ConnectorError
from connector.models import QBODrift
from connector.sync import drift_actions
from tenants.access import OrgRequest, org_view

PAGE_SIZE = 50
CHOICE_LABELS = {
    drift_actions.USE_PROCURIFY: "Use Procurify's version",
    drift_actions.KEEP_QBO: "Keep QuickBooks' version",
    drift_actions.RECREATE: "Re-create in QuickBooks",
    drift_actions.LEAVE_DELETED: "Leave it deleted",
    drift_actions.SEEN: "Noted",
}


def choices(drift: QBODrift) -> list[tuple[str, str]]:
    return [(a, CHOICE_LABELS[a]) for a in drift_actions.ALLOWED[QBODrift.Kind(drift.kind)]]


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
    from connector.views import queue_replay  # views imports this module's helpers for the record page

    organisation = request.organisation
    drift = get_object_or_404(QBODrift, organisation=organisation, public_id=drift_id)
    action = request.POST.get("action", "")
    try:
        write = drift_actions.decide(drift, action, by=request.user.email)
    except ConnectorError as exc:
        messages.error(request, f"{drift.label}: {exc.message}")
    else:
        if write and drift.object_type in ("bill", "purchase_order"):
            queue_replay(organisation, drift.object_type, drift.procurify_id)
        messages.success(request, f"{drift.label}: {drift_actions.SENTENCES[action]}.")
    return redirect((request.POST.get("next_record") and _record_url(drift)) or _list_url(drift))


def _list_url(drift: QBODrift) -> str:
    from django.urls import reverse

    return reverse("connector-drift", args=[drift.organisation.public_id])


def _record_url(drift: QBODrift) -> str:
    from django.urls import reverse

    return reverse(
        "connector-record", args=[drift.organisation.public_id, drift.object_type, drift.procurify_id]
    )
