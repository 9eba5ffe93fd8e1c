"""The documents list (every bill and PO the product has read), its CSV export, and the held list's export."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from connector import finder, kinds
from connector.finder import FinderForm
from connector.kinds import RecordKind
from connector.models import HeldRecord
from connector.record_links import record_path
from tenants.access import OrgRequest, org_view
from tenants.models import Organisation

PAGE_SIZE = 50


@org_view
def document_list(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    form = FinderForm(request.GET)
    rows = form.apply(_source(form, organisation))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        if row.object_type == RecordKind.VENDOR:  # a vendor's page is its mapping
            row.url = reverse("mappings-edit", args=[organisation.public_id, "vendors", row.public_id])
        else:
            row.url = record_path(organisation, row.object_type, row.procurify_id)
        row.type_label = kinds.PAGE_LABELS.get(row.object_type, row.object_type)
    context = {"org": organisation, "form": form, "query": form.query_string(), "page": page}
    return render(request, "connector/documents.html", context, status=400 if form.errors else 200)


@org_view
def document_export(request: OrgRequest) -> StreamingHttpResponse:
    organisation = request.organisation
    form = FinderForm(request.GET)
    return finder.stream_csv(form.apply(_source(form, organisation)), _filename("documents"))


def _source(form: FinderForm, organisation: Organisation) -> QuerySet[Any]:
    return (
        finder.vendors(organisation)
        if form.kind_value() == RecordKind.VENDOR
        else finder.documents(organisation)
    )


@org_view
def held_export(request: OrgRequest) -> StreamingHttpResponse:
    organisation = request.organisation
    form = FinderForm(request.GET, with_state=False)
    return finder.stream_csv(
        form.apply(finder.with_documents(HeldRecord.objects.for_org(organisation).open())), _filename("held")
    )


def _filename(kind: str) -> str:
    return f"{kind}-{timezone.now():%Y-%m-%d}.csv"
