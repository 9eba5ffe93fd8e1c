"""The "Payment methods" tab: which QuickBooks Bank or Credit Card account pays each Procurify payment
method (mappings/payment_accounts.py). Thin: org_view → save → release the payments waiting on it."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from connector import activity
from connector.models import HeldRecord
from mappings.models import PaymentAccountMapping
from mappings.payment_accounts import (
    WAITING_ON,
    NotAPayingAccount,
    method_label,
    paying_accounts,
    save_payment_account,
)
from tenants.access import OrgRequest, org_view


@org_view
def payment_methods(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    waiting = dict(
        HeldRecord.objects.filter(
            organisation=organisation, state=HeldRecord.State.HELD, waiting_on_type=WAITING_ON
        )
        .values_list("waiting_on_key")
        .annotate(n=Count("pk"))
    )
    rows = [
        {"row": row, "label": method_label(row.method), "waiting": waiting.get(row.method, 0)}
        for row in PaymentAccountMapping.objects.filter(organisation=organisation).order_by("method")
    ]
    context = {
        "org": organisation,
        "organisation": organisation,
        "rows": rows,
        "accounts": paying_accounts(organisation),
        "can_write": request.membership.can_write,
        "unmapped": sum(1 for r in rows if not r["row"].qbo_account_id),
    }
    return render(request, "mappings/payment_methods.html", context)


@org_view(writers_only=True)
def payment_method_save(request: OrgRequest, mapping_id: str) -> HttpResponse:
    organisation = request.organisation
    row = get_object_or_404(PaymentAccountMapping, organisation=organisation, public_id=mapping_id)
    if request.method == "POST":
        try:
            saved = save_payment_account(
                organisation, row.method, request.POST.get("qbo_id", "").strip(), user=request.user
            )
        except NotAPayingAccount as exc:
            messages.error(request, f"{method_label(row.method)}: {exc} Nothing was saved.")
        else:
            activity.record(
                organisation,
                request.user,
                f"Mapped {method_label(row.method)} payments to '{saved.qbo_account_name}'",
                action="payment_method_mapped",
                method=row.method,
                qbo_account_id=saved.qbo_account_id,
            )
            messages.success(
                request,
                f"{method_label(row.method)} payments are paid from the chosen account; payments waiting "
                "for it are recorded on the next sync.",
            )
    return redirect("mappings-payment-methods", org_id=organisation.public_id)
