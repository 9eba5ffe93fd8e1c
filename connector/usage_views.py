"""The organisation's metered QuickBooks calls by month, against its budget (connector/metering.py)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from connector import metering
from tenants.access import OrgRequest, org_view


@org_view
def usage_page(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    months = metering.usage_months(organisation.pk)
    budget = metering.budget()
    this_month = metering.month_of(timezone.now())
    current = next((m for m in months if m.month == this_month), None)
    used = current.calls if current else 0
    context = {
        "org": organisation,
        "months": months,
        "budget": budget,
        "used": used,
        "percent": round(used * 100 / budget) if budget else 0,
        "this_month": this_month,
    }
    return render(request, "connector/usage.html", context)
