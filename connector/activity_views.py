"""The organisation's activity page: what people did, who and when (issue 12, "who did what")."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from connector import activity
from tenants.access import OrgRequest, org_view

PAGE_SIZE = 50


@org_view
def activity_list(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    page = Paginator(activity.by_people(organisation), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "connector/activity.html", {"org": organisation, "page": page})
