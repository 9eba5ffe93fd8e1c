"""The vendor and account mapping tables' data: what differs between them (`Kind`), each row with the held
records waiting on it and whether QuickBooks' side is inactive, the status filters and their counts, the
QuickBooks choices offered, and what saving a mapping releases. mappings/views.py renders it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Count, Exists, IntegerField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce

from connector.models import HeldRecord
from mappings import bill_accounts, services
from mappings.models import AccountMapping, QBOAccount, QBOVendor, Source, VendorMapping
from tenants.models import Organisation

STATUS_CHOICES = [
    ("", "All"),
    ("unmapped", "Unmapped"),
    ("auto", "Auto-matched"),
    ("manual", "Chosen by a person"),
    ("inactive", "QuickBooks side inactive"),
    ("held", "Has held records"),
]
AUTO_SOURCES = (Source.AUTO_NAME, Source.AUTO_NUMBER, Source.CREATED)
# Only vendors have suggestions (a likely match a person confirms); accounts match by number.
VENDOR_STATUS_CHOICES = [*STATUS_CHOICES[:2], ("suggested", "Suggested"), *STATUS_CHOICES[2:]]


@dataclass(frozen=True)
class Kind:
    """What differs between the vendor and the account table."""

    slug: str
    noun: str
    model: type[Model]
    qbo_model: type[QBOVendor | QBOAccount]
    key_field: str
    qbo_id_field: str
    qbo_name_field: str
    name_field: str
    search_fields: tuple[str, ...]
    waiting_on_type: str
    save: Callable[..., Any]
    statuses: list[tuple[str, str]]


KINDS = {
    "vendors": Kind(
        "vendors", "vendor", VendorMapping, QBOVendor, "procurify_vendor_id", "qbo_vendor_id",
        "qbo_vendor_name", "procurify_name", ("procurify_name", "qbo_vendor_name"), "vendor_mapping",
        services.save_vendor_mapping, VENDOR_STATUS_CHOICES,
    ),
    "accounts": Kind(
        "accounts", "account", AccountMapping, QBOAccount, "procurify_account_code_id", "qbo_account_id",
        "qbo_account_name", "code", ("code", "description", "qbo_account_name"), "account_mapping",
        services.save_account_mapping, STATUS_CHOICES,
    ),
}  # fmt: skip


def held_count(organisation: Organisation, waiting_on_type: str, key_field: str) -> Coalesce:
    """How many held records wait on each row (a mapping whose key is ``key_field``), as an annotation."""
    held = (
        HeldRecord.objects.filter(
            organisation=organisation,
            state=HeldRecord.State.HELD,
            waiting_on_type=waiting_on_type,
            waiting_on_key=Cast(OuterRef(key_field), CharField()),
        )
        .order_by()
        .values("waiting_on_type")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(held, output_field=IntegerField()), 0)


def mapping_rows(kind: Kind, organisation: Organisation) -> QuerySet[Any]:
    """This organisation's mappings, each with its waiting held records and whether QBO's side is inactive."""
    inactive = kind.qbo_model._default_manager.filter(
        organisation=organisation, qbo_id=OuterRef(kind.qbo_id_field), active=False
    )
    rows = (
        kind.model._default_manager.filter(organisation=organisation)
        .select_related("decided_by")  # "chosen by dana@… on 1 Dec" on each row
        .annotate(
            held_count=held_count(organisation, kind.waiting_on_type, kind.key_field),
            qbo_inactive=Exists(inactive),
        )
    )
    if kind.slug != "vendors":
        return rows
    vendors = QBOVendor.objects.filter(organisation=organisation)
    return rows.annotate(
        qbo_currency=Subquery(vendors.filter(qbo_id=OuterRef("qbo_vendor_id")).values("currency")[:1]),
        suggested_currency=Subquery(
            vendors.filter(qbo_id=OuterRef("suggested_qbo_vendor_id")).values("currency")[:1]
        ),
    )


def status_filter(kind: Kind, status: str) -> Q:
    if status == "suggested" and kind.slug == "vendors":
        return services.SUGGESTION_PENDING
    return {
        "unmapped": Q(**{kind.qbo_id_field: ""}),
        "auto": Q(source__in=AUTO_SOURCES) & ~Q(**{kind.qbo_id_field: ""}),
        "manual": Q(source=Source.MANUAL),
        "inactive": Q(qbo_inactive=True),
        "held": Q(held_count__gt=0),
    }.get(status, Q())


def filtered(kind: Kind, organisation: Organisation, filters: dict[str, str]) -> QuerySet[Any]:
    rows = mapping_rows(kind, organisation).filter(status_filter(kind, filters["status"]))
    if filters["q"]:
        search = Q()
        for field in kind.search_fields:
            search |= Q(**{f"{field}__icontains": filters["q"]})
        rows = rows.filter(search)
    order = {
        "name": (kind.name_field,),
        "-name": (f"-{kind.name_field}",),
        "qbo": (kind.qbo_name_field, kind.name_field),
        "held": ("-held_count", kind.name_field),
    }[filters["sort"]]
    return rows.order_by(*order, "pk")


def status_counts(kind: Kind, organisation: Organisation) -> list[tuple[str, str, int]]:
    rows = mapping_rows(kind, organisation)
    return [(value, label, rows.filter(status_filter(kind, value)).count()) for value, label in kind.statuses]


def qbo_options(kind: Kind, organisation: Organisation) -> list[tuple[str, str]]:
    if kind.slug == "vendors":
        vendors = QBOVendor.objects.filter(organisation=organisation, active=True).order_by("display_name")
        return [(v.qbo_id, v.display_name) for v in vendors]
    return [(a.qbo_id, bill_accounts.label(a)) for a in bill_accounts.pickable(organisation)]


def waiting_by_type(organisation: Organisation, kind: Kind, mapping: Any) -> Counter[str]:
    """Held records waiting on this mapping, by object type: what saving it is about to release."""
    waiting = HeldRecord.objects.filter(
        organisation=organisation,
        state=HeldRecord.State.HELD,
        waiting_on_type=kind.waiting_on_type,
        waiting_on_key=str(getattr(mapping, kind.key_field)),
    )
    return Counter(waiting.values_list("object_type", flat=True))


def released_sentence(by_type: Counter[str]) -> str:
    """'3 held bills and 1 held purchase order will sync on the next run.'"""
    if not by_type:
        return "No held records were waiting on it."
    parts = []
    for object_type, n in sorted(by_type.items()):
        noun = object_type.replace("_", " ")
        parts.append(f"{n} held {noun}{'' if n == 1 else 's'}")
    return f"{' and '.join(parts)} will sync on the next run."
