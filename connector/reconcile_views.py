"""The reconciliation page, its CSV export and its printable page; the preview of the next sync.

Thin: org_view → connector.reconcile_service / connector.sync.preview → render. Both read the two
systems while the person waits: the reconciliation costs one Procurify list page per 100 bills and one
QuickBooks query per 100 bills we wrote. The preview is a whole sync without writes, run by a Celery
task (connector/sync/preview.py); the page shows its progress and then its list.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone

from connector import reconcile_service, tasks
from connector.clients import CLIENTS, NotConnected
from connector.errors import ConnectorError
from connector.reconcile import CENT, KIND_TITLES, Reconciliation
from connector.sync import preview as previews
from connector.sync import preview_summary, start_gate
from mappings.views import is_htmx
from tenants import limits
from tenants.access import OrgRequest, org_view
from tenants.models import Organisation

# Both pages spend the organisation's API quota on every load, like "Sync now" (tenants/limits.py).
PREVIEW = limits.Limit("preview", "Preview next sync", 6, 10)
RECONCILE = limits.Limit("reconcile", "Reconciliation", 30, 10)
CSV_HEADER = [
    "section",
    "vendor",
    "month",
    "currency",
    "document",
    "procurify_id",
    "quickbooks_id",
    "approved_in_procurify",
    "written_to_quickbooks",
    "in_quickbooks_now",
    "difference",
    "explanation",
    "reason",
]


def _build(request: OrgRequest) -> tuple[Reconciliation | None, str]:
    if refused := limits.allow(request.organisation, RECONCILE):
        return None, refused
    try:
        return reconcile_service.build(request.organisation, CLIENTS), ""
    except NotConnected as exc:
        return None, exc.message
    except ConnectorError as exc:
        return None, f"We could not read both systems just now: {exc.message}"


@org_view
def reconciliation(request: OrgRequest) -> HttpResponse:
    result, error = _build(request)
    printable = bool(request.GET.get("print"))
    template = "connector/reconciliation_print.html" if printable else "connector/reconciliation.html"
    context = {
        "org": request.organisation,
        "result": result,
        "error": error,
        "kinds": KIND_TITLES,
        "generated_at": timezone.now(),
    }
    return render(request, template, context)


@org_view
def reconciliation_csv(request: OrgRequest) -> HttpResponseBase:
    result, error = _build(request)
    if result is None:
        messages.error(request, error)
        org_id = request.organisation.public_id
        return redirect("connector-reconciliation", org_id=org_id)
    response = StreamingHttpResponse(_csv_lines(result), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="reconciliation-{stamp}.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(result: Reconciliation) -> Iterator[str]:
    """Rows, their explaining documents, the grand totals and the not-in-QuickBooks list; amounts as
    exact decimal strings (never floats), always next to their currency."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for row in result.rows:
        yield writer.writerow(["row", row.vendor, row.month, row.currency, "", "", "", *_money(row), "", ""])
        for doc in row.documents:
            yield writer.writerow(_document("document", doc))
    for total in result.totals:
        yield writer.writerow(["total", "", "", total.currency, "", "", "", *_money(total), "", ""])
    for doc in result.not_in_qbo:
        yield writer.writerow(_document("approved_not_in_quickbooks", doc))


def _money(row: Any) -> list[str]:
    return [_amount(row.approved), _amount(row.written), _amount(row.in_qbo), _amount(row.difference)]


def _amount(value: Decimal) -> str:
    # Two places when that is exact; an amount with more places is written whole, never rounded.
    return f"{value:.2f}" if value == value.quantize(CENT) else format(value, "f")


def _document(section: str, doc: Any) -> list[str]:
    return [
        section,
        text_cell(doc.vendor),
        doc.month,
        doc.currency,
        text_cell(doc.number),
        doc.procurify_id,
        doc.qbo_id,
        *_money(doc),
        doc.kind_title,
        text_cell(doc.reason),
    ]


def text_cell(value: str) -> str:
    """Names and numbers typed by people: a leading = + - @ would run as a formula in a spreadsheet
    (CSV injection), so such a cell starts with an apostrophe. Amounts are never text cells."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# ---- the preview ----------------------------------------------------------------------------------


@org_view
def preview_page(request: OrgRequest) -> HttpResponse:
    """GET: the last preview (or its progress; htmx polls the same URL); POST (admins): start one.

    A Celery task runs it: a whole sync without writes takes as long as a sync's reads (about 50 s for
    1,000 new bills in the sandbox), longer than a web request may wait.
    """
    organisation = request.organisation
    if request.method == "POST":
        if refused := limits.allow(organisation, PREVIEW):
            messages.warning(request, refused)
        else:
            previews.store(organisation, previews.RUNNING)
            org_pk = organisation.pk
            transaction.on_commit(lambda: tasks.preview_sync.delay(org_pk))
        return redirect("connector-preview", org_id=organisation.public_id)
    state, preview = previews.stored(organisation)
    context = {"org": organisation, "state": state, "preview": preview} | start_context(organisation, preview)
    template = "connector/_preview_result.html" if is_htmx(request) else "connector/preview.html"
    response = render(request, template, context)
    if is_htmx(request) and not (state and state["state"] == previews.RUNNING):
        response["HX-Refresh"] = "true"  # finished: the whole page, with the list, in one go
    return response


def start_context(organisation: Organisation, preview: previews.Preview | None) -> dict[str, Any]:
    """The preview page's "Start syncing" block: sums per vendor and per hold reason, and the gate."""
    return {
        "by_vendor": preview_summary.by_vendor(preview) if preview else [],
        "holds_by_reason": preview_summary.holds_by_reason(preview) if preview else [],
        "syncing_started": start_gate.has_started(organisation),
        "syncing_started_by": start_gate.started_by_label(organisation),
        "start_refused": start_gate.why_not_startable(organisation),
    }
