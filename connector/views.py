"""Sync pages: held records, a record's audit timeline, runs, sync now and its progress, sync settings.

Thin: org_view → form / engine service (connector.sync.*) → render. Everything is filtered by
request.organisation and looked up by public UUID inside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from connector import chart, finance, finder, held_groups, record_document, tasks
from connector.drift_views import choices as drift_choices
from connector.errors import ConnectorError
from connector.finder import FinderForm
from connector.forms import IgnoreForm, RunFilterForm, SyncSettingsForm
from connector.models import AuditEvent, ExternalRecord, HeldRecord, QBODrift, SyncRun
from connector.sync import attachments, credits, holds, preview, removal, runs, start_gate
from connector.sync.audit import Audit
from connector.sync.payments import payments_of_bill
from connector.sync.sweep import PAYMENT, REMOVAL_REASONS
from mappings.models import AccountMapping, VendorMapping
from mappings.views import is_htmx
from tenants import limits
from tenants.access import OrgRequest, org_view
from tenants.models import Connection, Organisation, Provider, SyncSchedule

OBJECT_TYPES = {
    "bill": "Bill",
    "purchase_order": "Purchase order",
    "vendor": "Vendor",
    "payment": "Payment",
    "attachment": "Invoice file",
}
# A negative bill is written as a vendor credit (connector/sync/credits.py); its page stays the bill's.
CREDIT_TYPE = {credits.CREDIT_LINK: "Vendor credit"}
OPEN_STATES = (HeldRecord.State.HELD, HeldRecord.State.RELEASED)
PAGE_SIZE = 50
_TYPE_NAMES = {**OBJECT_TYPES, **CREDIT_TYPE}  # what the dashboard counts ExternalRecords as
VENDOR_WAITS = ("vendor_mapping", "vendor_currency")
REASON_TITLES = {
    "vendor_unmapped": "Vendor not mapped",
    "vendor_inactive": "Vendor inactive in QuickBooks",
    "account_unmapped": "Account code not mapped",
    "account_inactive": "Account inactive in QuickBooks",
    "qbo_validation": "Rejected by QuickBooks",
    "period_closed": "Books closed in QuickBooks",
    "duplicate_vendor_name": "Vendor name already used in QuickBooks",
    "vendor_currency_mismatch": "Vendor bills in another currency in QuickBooks",
    "multicurrency_off": "Multicurrency is off in QuickBooks",
    "no_payables_account": "No Accounts Payable account in this currency",
    "exchange_rate_base_mismatch": "Procurify and QuickBooks convert to different currencies",
    "bill_total_missing": "Procurify gave no total",
    "vendor_currency_unknown": "Vendor's currency unknown",
    "books_unknown": "QuickBooks settings not read yet",
    "duplicate_docnumber": "Invoice number already used in QuickBooks",
    "bill_paid_in_qbo": "Already paid in QuickBooks",
    "changed_on_both_sides": "Changed on both sides",
    "deleted_in_qbo": "Deleted in QuickBooks",
    "books_closed": "Books closed for this date",
    "bill_voided_in_procurify": "Withdrawn or denied in Procurify",
    "bill_removed_in_procurify": "Removed in Procurify after it reached QuickBooks",
    "bill_unapproved_after_sync": "Sent back for approval after it reached QuickBooks",
    "paid_in_procurify": "Paid in Procurify, payment not recorded in QuickBooks",
    "payment_account_unmapped": "Paid in Procurify — payment not yet recorded in QuickBooks (no account)",
    "payment_account_unusable": "Paid in Procurify — payment account unusable in QuickBooks",
    "payment_waiting_for_bill": "Paid in Procurify — waiting for the bill to reach QuickBooks",
    "payment_currency_mismatch": "Paid in another currency than the bill",
    "payment_split_unknown": "One payment for several bills, split unknown",
    "payment_date_missing": "Payment without a date",
    "bill_total_mismatch": "Lines do not add up to the bill's total",
    "malformed_record": "Unreadable data from Procurify",
    "stale_sync_token_exhausted": "Kept changing in QuickBooks",
    "sync_failed": "Could not be read or written",
    "tax_unmapped": "Tax has no QuickBooks tax code",
    "tax_code_unusable": "Tax code inactive or not for purchases",
    "tax_total_mismatch": "QuickBooks' tax would differ from Procurify's",
    "class_unmapped": "Department has no QuickBooks class",
    "class_inactive": "Class inactive in QuickBooks",
    "location_unmapped": "Location has no QuickBooks location",
    "location_inactive": "Location inactive in QuickBooks",
    "one_location_per_bill": "Bill spans several locations",
    "one_class_per_bill": "Bill spans several classes",
    "attachment_type_not_allowed": "Invoice file of a type QuickBooks does not take",
    "attachment_too_large": "Invoice file too large for QuickBooks",
    "attachment_refused": "Invoice file refused by QuickBooks",
    "attachment_unreachable": "Invoice file could not be downloaded",
    "attachment_address_refused": "Invoice file at an address we do not contact",
    "credit_sign_flip_locked": "Changed sign, but paid or applied in QuickBooks",
}


# ---- helpers shared with the dashboard and the e-mails ---------------------------------------------


def fix_links(organisation: Organisation, rows: Iterable[HeldRecord]) -> dict[int, tuple[str, str]]:
    """For each held record: (label, path) of the page where the cause is fixed."""
    rows = list(rows)
    vendor_keys = {_vendor_key(r) for r in rows if r.waiting_on_type in VENDOR_WAITS}
    account_keys = {r.waiting_on_key for r in rows if r.waiting_on_type == "account_mapping"}
    vendors = dict(
        VendorMapping.objects.filter(
            organisation=organisation, procurify_vendor_id__in=_ints(vendor_keys)
        ).values_list("procurify_vendor_id", "public_id")
    )
    accounts = dict(
        AccountMapping.objects.filter(
            organisation=organisation, procurify_account_code_id__in=_ints(account_keys)
        ).values_list("procurify_account_code_id", "public_id")
    )
    org_id = organisation.public_id
    links = {}
    for row in rows:
        raw = _vendor_key(row) if row.waiting_on_type in VENDOR_WAITS else row.waiting_on_key
        key = int(raw) if raw.isdigit() else None
        if row.waiting_on_type in VENDOR_WAITS and key in vendors:
            links[row.pk] = (
                "Map the vendor",
                reverse("mappings-edit", args=[org_id, "vendors", vendors[key]]),
            )
        elif row.waiting_on_type == "account_mapping" and key in accounts:
            links[row.pk] = (
                "Map the account",
                reverse("mappings-edit", args=[org_id, "accounts", accounts[key]]),
            )
        elif row.waiting_on_type in ("tax_mapping", "class_mapping", "location_mapping"):
            links[row.pk] = ("Map it", reverse("mappings-dimensions", args=[org_id]))
        elif row.reason_code == "books_closed":
            settings_url = reverse("connector-settings", args=[org_id])
            links[row.pk] = ("Choose what happens in sync settings", settings_url)
        elif row.reason_code in ("changed_on_both_sides", "deleted_in_qbo"):
            record_url = record_path(organisation, row.object_type, row.procurify_id)
            links[row.pk] = ("Compare and choose", record_url)
        else:
            if row.object_type == PAYMENT:  # a payment is shown on its (first) bill's page
                bill = ((row.detail or {}).get("bills") or "").split(",")[0]
                links[row.pk] = ("See the bill", record_path(organisation, "bill", bill or row.procurify_id))
            else:
                links[row.pk] = (
                    "See the record",
                    record_path(organisation, row.object_type, row.procurify_id),
                )
    return links


def twin_actions(organisation: Organisation, rows: Iterable[HeldRecord]) -> dict[int, tuple[str, str]]:
    """For bills held on a vendor in another currency: (twin vendor name, URL that creates it)."""
    wanted = {r.pk: r.waiting_on_key.partition(":") for r in rows if r.waiting_on_type == "vendor_currency"}
    ids = _ints({vendor for vendor, _, _ in wanted.values()})
    mappings = dict(
        VendorMapping.objects.filter(organisation=organisation, procurify_vendor_id__in=ids).values_list(
            "procurify_vendor_id", "public_id"
        )
    )
    out = {}
    for row in rows:
        vendor, _, currency = wanted.get(row.pk, ("", "", ""))
        if vendor.isdigit() and int(vendor) in mappings and currency:
            url = reverse(
                "mappings-currency-twin", args=[organisation.public_id, mappings[int(vendor)], currency]
            )
            out[row.pk] = ((row.detail or {}).get("twin", ""), url)
    return out


def _vendor_key(row: HeldRecord) -> str:
    # vendor_currency waits are keyed "<procurify vendor id>:<currency>".
    return row.waiting_on_key.partition(":")[0]


def _ints(keys: set[str]) -> list[int]:
    return [int(k) for k in keys if k.isdigit()]


def record_path(organisation: Organisation, object_type: str, procurify_id: str) -> str:
    return reverse("connector-record", args=[organisation.public_id, object_type, procurify_id])


def open_holds(organisation: Organisation) -> Any:
    return HeldRecord.objects.filter(organisation=organisation, state__in=OPEN_STATES)


def active_run(organisation: Organisation) -> SyncRun | None:
    return SyncRun.objects.filter(organisation=organisation, status__in=SyncRun.ACTIVE).first()


def start_run(organisation: Organisation, trigger: str) -> SyncRun | None:
    """Queue a run (None if one is active) and hand it to the worker once the row is committed."""
    run = runs.enqueue_run(organisation, trigger)
    if run is not None:
        run_pk = run.pk
        transaction.on_commit(lambda: tasks.sync_organisation.delay(run_pk))
    return run


def _release(rows: Any) -> int:
    # holds.release_waiting releases by what a hold waits on; a person's "retry" releases by row.
    return rows.filter(state=HeldRecord.State.HELD).update(
        state=HeldRecord.State.RELEASED, released_at=timezone.now()
    )


# ---- held records ----------------------------------------------------------------------------------


@org_view
def held_list(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    form = FinderForm(request.GET, with_state=False)
    rows = form.apply(finder.with_documents(open_holds(organisation)))
    ordered = list(rows.order_by("reason_code", "waiting_on_type", "waiting_on_key", *rows.query.order_by))
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    all_groups = held_groups.groups(ordered, REASON_TITLES)
    links = fix_links(organisation, [group["first"] for group in all_groups])
    on_page = {row.pk for row in page.object_list}
    twins = twin_actions(organisation, page.object_list)
    credit_ids = _credit_ids(organisation, page.object_list)
    for row in page.object_list:
        row.type_label = CREDIT_TYPE[credits.CREDIT_LINK] if row.procurify_id in credit_ids else ""
        row.twin_name, row.twin_url = twins.get(row.pk, ("", ""))
    for group in all_groups:
        group["fix_label"], group["fix_url"] = links[group["first"].pk]
        group["page_rows"] = [row for row in group["rows"] if row.pk in on_page]
    context = {
        "org": organisation,
        "page": page,
        "form": form,
        "query": form.query_string(),
        "groups": [g for g in all_groups if g["page_rows"]],
        "held_total": len(ordered),
        "has_run": SyncRun.objects.filter(
            organisation=organisation, status=SyncRun.Status.SUCCEEDED
        ).exists(),
        "can_write": request.membership.can_write,
        "removal_reasons": REMOVAL_REASONS,
    }
    return render(request, "connector/held_list.html", context)


def _credit_ids(organisation: Organisation, rows: Iterable[HeldRecord]) -> set[str]:
    """Held bills that are vendor credits: written as one, or labelled one before any write."""
    bills = [r for r in rows if r.object_type == credits.BILL_LINK]
    written = ExternalRecord.objects.filter(
        organisation=organisation,
        object_type=credits.CREDIT_LINK,
        procurify_id__in=[r.procurify_id for r in bills],
    ).values_list("procurify_id", flat=True)
    return set(written) | {r.procurify_id for r in bills if r.label.startswith(credits.CREDIT_PREFIX)}


@org_view
@require_POST
def held_retry(request: OrgRequest, held_id: str) -> HttpResponse:
    organisation = request.organisation
    held = get_object_or_404(open_holds(organisation), public_id=held_id)
    _release(HeldRecord.objects.filter(pk=held.pk))
    messages.success(request, f"{held.label or held.procurify_id} will be retried on the next run.")
    return redirect("connector-held", org_id=organisation.public_id)


@org_view
@require_POST
def held_retry_all(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    count = _release(open_holds(organisation))
    messages.success(
        request, f"{count} held record{'s' if count != 1 else ''} will be retried on the next run."
    )
    return redirect("connector-held", org_id=organisation.public_id)


@org_view
def held_ignore(request: OrgRequest, held_id: str) -> HttpResponse:
    organisation = request.organisation
    held = get_object_or_404(open_holds(organisation), public_id=held_id)
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
        open_holds(organisation).filter(reason_code__in=REMOVAL_REASONS), public_id=held_id
    )
    try:
        removal.delete_in_qbo(held, by=request.user.email)
    except ConnectorError as exc:
        messages.error(request, f"{held.label} was not deleted in QuickBooks: {exc.message}")
    else:
        messages.success(request, f"{held.label} was deleted in QuickBooks; its audit trail says by whom.")
    return redirect("connector-held", org_id=organisation.public_id)


def _ignore(request: OrgRequest, held: HeldRecord, comment: str) -> None:
    with transaction.atomic():
        holds.resolve(held.organisation, held.object_type, held.procurify_id)
        if held.reason_code in REMOVAL_REASONS:
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
    if object_type not in OBJECT_TYPES:
        raise Http404("No such record type.")
    scope = {"organisation": organisation, "object_type": object_type, "procurify_id": procurify_id}
    external = ExternalRecord.objects.filter(**scope).first()
    if external is None and object_type == credits.BILL_LINK:
        external = ExternalRecord.objects.filter(**{**scope, "object_type": credits.CREDIT_LINK}).first()
    held = HeldRecord.objects.filter(**scope).first()
    events = list(AuditEvent.objects.filter(**scope).select_related("run").order_by("-created_at", "-id"))
    if external is None and held is None and not events:
        raise Http404("No such record.")
    context = {
        "org": organisation,
        "object_type": object_type,
        "type_label": _type_label(object_type, external, held),
        "procurify_id": procurify_id,
        "external": external,
        "held": held,
        "label": (external and external.label) or (held and held.label) or procurify_id,
        "timeline": with_diffs(events),
        "document": record_document.build(
            organisation, object_type, events, bool(external and external.qbo_id)
        ),
        "can_write": request.membership.can_write,
        "can_replay": object_type in ("bill", "purchase_order"),
        "files": attachments.files_of_bill(organisation, procurify_id) if object_type == "bill" else [],
        "qbo_link": qbo_link(external),
        "drift": _drift(organisation, object_type, procurify_id),
        "procurify_site": Connection.objects.filter(organisation=organisation, provider=Provider.PROCURIFY)
        .values_list("site_url", flat=True)
        .first(),
    }
    if object_type == "bill":  # its payments: recorded as BillPayments, or held (connector/sync/payments.py)
        context["bill_payments"] = payments_of_bill(organisation, procurify_id)
    return render(request, "connector/record.html", context)


def _drift(organisation: Organisation, object_type: str, procurify_id: str) -> QBODrift | None:
    scope = {"organisation": organisation, "object_type": object_type, "procurify_id": procurify_id}
    drift = QBODrift.objects.filter(**scope).first()
    if drift is not None:
        drift.choices = drift_choices(drift)  # type: ignore[attr-defined]  # for the template only
    return drift


def _type_label(object_type: str, external: ExternalRecord | None, held: HeldRecord | None) -> str:
    if external is not None and external.object_type in CREDIT_TYPE:
        return CREDIT_TYPE[external.object_type]
    if external is None and held is not None and held.label.startswith(credits.CREDIT_PREFIX):
        return CREDIT_TYPE[credits.CREDIT_LINK]  # held before it was ever written
    return OBJECT_TYPES[object_type]


# QuickBooks' own pages for each entity we write; the id parameter differs for name-list entities.
_QBO_PAGES = {
    "Bill": "bill?txnId=",
    "VendorCredit": "vendorcredit?txnId=",
    "PurchaseOrder": "purchaseorder?txnId=",
    "Vendor": "vendordetail?nameId=",
}


def qbo_link(external: ExternalRecord | None) -> str:
    if not (settings.QBO_APP_URL and external and external.qbo_id and external.qbo_entity in _QBO_PAGES):
        return ""
    return f"{settings.QBO_APP_URL}/app/{_QBO_PAGES[external.qbo_entity]}{external.qbo_id}"


def with_diffs(events_newest_first: list[AuditEvent]) -> list[dict[str, Any]]:
    """Each event, and for each request body the field-level changes since the previous body."""
    out: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for event in reversed(events_newest_first):
        body = event.data.get("body") if isinstance(event.data, dict) else None
        changes = None
        if isinstance(body, dict):
            current = flatten(body)
            changes = diff(previous, current) if previous is not None else None
            previous = current
        data_json = json.dumps(event.data, indent=2, sort_keys=True, ensure_ascii=False) if event.data else ""
        out.append({"event": event, "changes": changes, "data_json": data_json})
    out.reverse()
    return out


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key, inner in value.items():
            items.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return items
    if isinstance(value, list):
        items = {}
        for index, inner in enumerate(value):
            items.update(flatten(inner, f"{prefix}[{index}]"))
        return items
    return {prefix: value}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    fields = sorted(set(before) | set(after))
    return [
        {"field": f, "before": before.get(f, "—"), "after": after.get(f, "—")}
        for f in fields
        if before.get(f, "—") != after.get(f, "—")
    ]


@org_view
@require_POST
def record_replay(request: OrgRequest, object_type: str, procurify_id: str) -> HttpResponse:
    organisation = request.organisation
    if object_type not in ("bill", "purchase_order"):
        raise Http404("Only bills and purchase orders can be replayed.")
    if not _is_known(organisation, object_type, procurify_id):
        raise Http404("No such record.")
    back = redirect(
        "connector-record", org_id=organisation.public_id, object_type=object_type, procurify_id=procurify_id
    )
    if active_run(organisation) is not None:
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


def queue_replay(organisation: Organisation, object_type: str, procurify_id: str) -> None:
    """The worker replays the record (QuickBooks calls never run in the request), once this commits."""
    org_pk = organisation.pk
    transaction.on_commit(lambda: tasks.replay_record.delay(org_pk, object_type, procurify_id))


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
    labels = _labels(organisation, page.object_list)
    for row in page.object_list:
        row["label"] = labels.get((row["object_type"], row["procurify_id"]), row["procurify_id"])
        row["url"] = record_path(organisation, row["object_type"], row["procurify_id"])
    finance.attach_amounts(organisation, list(page.object_list))
    errors = AuditEvent.objects.filter(organisation=organisation, run=run, kind=AuditEvent.Kind.ERROR)
    context = {
        "org": organisation,
        "run": run,
        "page": page,
        "errors": errors[:20],
        "types": OBJECT_TYPES,
        "totals": finance.run_totals(organisation, run),
    }
    return render(request, "connector/run_detail.html", context)


def _labels(organisation: Organisation, rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], str]:
    ids = [r["procurify_id"] for r in rows]
    labels: dict[tuple[str, str], str] = {}
    for model in (HeldRecord, ExternalRecord):
        found = model.objects.filter(organisation=organisation, procurify_id__in=ids).exclude(label="")
        for object_type, procurify_id, label in found.values_list("object_type", "procurify_id", "label"):
            # A vendor credit's events are filed under its bill.
            labels[(credits.record_type(object_type), procurify_id)] = label
    return labels


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
    context = {
        "org": organisation,
        "active": active_run(organisation),
        "last_run": last_finished(organisation),
        "held_count": open_holds(organisation).count(),  # the held card's number, from the same query
    }
    response = render(request, "connector/_progress.html", context)
    if is_htmx(request) and context["active"] is None:
        # Only a running sync polls; once it ends, reload the page so totals and held counts are current.
        response["HX-Refresh"] = "true"
    return response


def last_finished(organisation: Organisation) -> SyncRun | None:
    return (
        SyncRun.objects.filter(organisation=organisation)
        .exclude(status__in=SyncRun.ACTIVE)
        .order_by("-created_at")
        .first()
    )


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
        released = holds.release_reason(organisation, "books_closed")  # the choice may free them
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


# ---- the dashboard's context (tenants.views.dashboard calls this) ----------------------------------


def dashboard_context(organisation: Organisation) -> dict[str, Any]:
    connections = {c.provider: c for c in organisation.connections.all()}
    schedule = SyncSchedule.objects.filter(organisation=organisation).first()
    mapping_rows = (
        VendorMapping.objects.filter(organisation=organisation).count()
        + AccountMapping.objects.filter(organisation=organisation).count()
    )
    unmapped = _unmapped(organisation)
    month_start = finance.month_start(organisation)
    synced = ExternalRecord.objects.filter(
        organisation=organisation, state=ExternalRecord.State.SYNCED, last_synced_at__gte=month_start
    )
    org_id = organisation.public_id
    connections_url = reverse("tenants-connections", args=[org_id])
    first_sync = SyncRun.objects.filter(organisation=organisation, status=SyncRun.Status.SUCCEEDED).exists()
    steps = [
        ("Connect Procurify", _is_connected(connections, "procurify"), connections_url),
        ("Connect QuickBooks Online", _is_connected(connections, "qbo"), connections_url),
        (
            "Review vendor and account mappings",
            mappings_reviewed(organisation, mapping_rows, unmapped, first_sync),
            reverse("mappings-index", args=[org_id]),
        ),
        (
            "Choose a schedule",
            bool(schedule and schedule.enabled),
            reverse("connector-settings", args=[org_id]),
        ),
        (  # before the first write, see what it would write (connector/sync/preview.py)
            "Preview what the first sync will write",
            first_sync or preview.seen(organisation),
            reverse("connector-preview", args=[org_id]),
        ),
        (  # nothing is written until a person presses "Start syncing" on the preview
            "Start syncing after the preview",
            first_sync or start_gate.has_started(organisation),
            reverse("connector-preview", args=[org_id]),
        ),
        ("Run the first sync", first_sync, ""),
    ]
    checklist = [{"label": label, "done": done, "url": url} for label, done, url in steps]
    next_step = next((step for step in checklist if not step["done"]), None)
    if next_step is not None:
        next_step["next"] = True
    return {
        "connections": connections,
        "checklist": checklist,
        "next_step": next_step,
        "unmapped": unmapped,
        "schedule": schedule,
        "last_run": last_finished(organisation),
        "active": active_run(organisation),
        "held_count": open_holds(organisation).count(),
        "held_value": finance.on_hold(organisation),
        "synced_value": finance.synced_this_month(organisation),
        "first_sync_done": first_sync,
        "chart": chart.weekly_amounts(organisation),
        "sync_blocked": _sync_blocked(connections),
        "syncing_started": start_gate.has_started(organisation),
        "sync_waiting": start_gate.WAITING,
        "can_start_syncing": not start_gate.why_not_startable(organisation),
        "syncing_started_by": start_gate.started_by_label(organisation),
        "synced_this_month": [
            {"n": row["n"], "label": f"{_TYPE_NAMES.get(row['object_type'], row['object_type']).lower()}s"}
            for row in synced.values("object_type").annotate(n=Count("id")).order_by("object_type")
        ],
    }


MAPPING_WAITS = ("vendor_mapping", "account_mapping", "vendor_currency")


def mappings_reviewed(organisation: Organisation, mapping_rows: int, unmapped: int, synced: bool) -> bool:
    """Done when everything is mapped or, once a sync has run, when no bill waits on a mapping: most
    Procurify vendors never send a bill, and insisting on mapping them all made the step a dead end."""
    if mapping_rows == 0:
        return False
    if unmapped == 0:
        return True
    return synced and not open_holds(organisation).filter(waiting_on_type__in=MAPPING_WAITS).exists()


def _sync_blocked(connections: dict[str, Any]) -> str:
    """Why Sync now cannot run yet ("" when it can): both systems must be connected."""
    missing = [
        name
        for provider, name in (("procurify", "Procurify"), ("qbo", "QuickBooks Online"))
        if not _is_connected(connections, provider)
    ]
    return f"Connect {' and '.join(missing)} first." if missing else ""


def _is_connected(connections: dict[str, Any], provider: str) -> bool:
    connection = connections.get(provider)
    return bool(connection and connection.is_connected)


def _unmapped(organisation: Organisation) -> int:
    vendors = VendorMapping.objects.filter(organisation=organisation, procurify_active=True, qbo_vendor_id="")
    accounts = AccountMapping.objects.filter(
        organisation=organisation, procurify_active=True, qbo_account_id=""
    )
    return vendors.count() + accounts.count()
