"""The held list's data: holds grouped by what they wait on, each group's fix (the page where the cause
is fixed), the currency-twin action, the vendor-credit label. Shared with the held-records e-mail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from connector import finder, held_groups, kinds
from connector.hold_reasons import ReasonCode
from connector.kinds import RecordKind
from connector.models import ExternalRecord, HeldRecord
from connector.record_links import record_path
from connector.sync import credits
from mappings.models import AccountMapping, VendorMapping
from tenants.models import Organisation

PAGE_SIZE = 50
VENDOR_WAITS = ("vendor_mapping", "vendor_currency")


def page(organisation: Organisation, form: finder.FinderForm, number: Any) -> dict[str, Any]:
    """One page of open holds, filtered by the finder form, and the groups shown on it."""
    rows = form.apply(finder.with_documents(HeldRecord.objects.for_org(organisation).open()))
    ordered = list(rows.order_by("reason_code", "waiting_on_type", "waiting_on_key", *rows.query.order_by))
    shown: Page[HeldRecord] = Paginator(ordered, PAGE_SIZE).get_page(number)
    all_groups = held_groups.groups(ordered)
    links = fix_links(organisation, [group["first"] for group in all_groups])
    on_page = {row.pk for row in shown.object_list}
    twins = twin_actions(organisation, shown.object_list)
    credit_ids = _credit_ids(organisation, shown.object_list)
    for row in shown.object_list:
        row.type_label = kinds.spec(RecordKind.VENDOR_CREDIT).label if row.procurify_id in credit_ids else ""
        row.twin_name, row.twin_url = twins.get(row.pk, ("", ""))
    for group in all_groups:
        group["fix_label"], group["fix_url"] = links[group["first"].pk]
        group["page_rows"] = [row for row in group["rows"] if row.pk in on_page]
    return {
        "page": shown,
        "groups": [g for g in all_groups if g["page_rows"]],
        "held_total": len(ordered),
    }


def release(rows: QuerySet[HeldRecord]) -> int:
    """A person's "retry": held rows are released for the next run (holds.release_waiting releases by
    what a hold waits on; this releases by row)."""
    return rows.filter(state=HeldRecord.State.HELD).update(
        state=HeldRecord.State.RELEASED, released_at=timezone.now()
    )


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
        elif row.reason_code == ReasonCode.BOOKS_CLOSED:
            settings_url = reverse("connector-settings", args=[org_id])
            links[row.pk] = ("Choose what happens in sync settings", settings_url)
        elif row.reason_code in (ReasonCode.CHANGED_ON_BOTH_SIDES, ReasonCode.DELETED_IN_QBO):
            record_url = record_path(organisation, row.object_type, row.procurify_id)
            links[row.pk] = ("Compare and choose", record_url)
        else:
            if row.object_type == RecordKind.PAYMENT:  # a payment is shown on its (first) bill's page
                bill = ((row.detail or {}).get("bills") or "").split(",")[0]
                links[row.pk] = (
                    "See the bill",
                    record_path(organisation, RecordKind.BILL, bill or row.procurify_id),
                )
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


def _credit_ids(organisation: Organisation, rows: Iterable[HeldRecord]) -> set[str]:
    """Held bills that are vendor credits: written as one, or labelled one before any write."""
    bills = [r for r in rows if r.object_type == RecordKind.BILL]
    written = ExternalRecord.objects.filter(
        organisation=organisation,
        object_type=RecordKind.VENDOR_CREDIT,
        procurify_id__in=[r.procurify_id for r in bills],
    ).values_list("procurify_id", flat=True)
    return set(written) | {r.procurify_id for r in bills if r.label.startswith(credits.CREDIT_PREFIX)}


def _vendor_key(row: HeldRecord) -> str:
    # vendor_currency waits are keyed "<procurify vendor id>:<currency>".
    return row.waiting_on_key.partition(":")[0]


def _ints(keys: set[str]) -> list[int]:
    return [int(k) for k in keys if k.isdigit()]
