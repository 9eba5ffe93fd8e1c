"""Search, filters, sorting and CSV export shared by the documents list and the held list.

Both lists are querysets carrying the same annotated names (``doc_number``, ``doc_vendor``,
``doc_currency``, ``doc_total``, ``doc_date``, ``doc_due``, ``doc_state``), so one form filters
either. Amounts are searched and exported as Decimal: "18,240.00", "18240" and "18240.00 USD"
all find a bill of 18,240.00; the CSV has "18240.00", exact to the cent.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import (
    Case,
    CharField,
    DateField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse

from connector.document_summary import DocumentSummary
from connector.kinds import DOCUMENTS, RecordKind, spec
from connector.models import ExternalRecord, HeldRecord
from connector.money import quantize, to_decimal
from mappings.models import VendorMapping

STATES = [("", "Any state"), ("synced", "In QuickBooks"), ("held", "Held"), ("read", "Read, not written")]
SORTS = {
    "-date": ("-doc_date", "-pk"),
    "date": ("doc_date", "pk"),
    "-amount": ("-doc_total", "-pk"),
    "amount": ("doc_total", "pk"),
    "number": ("doc_number", "pk"),
    "vendor": ("doc_vendor", "pk"),
}
SORT_CHOICES = [
    ("-date", "Newest first"),
    ("date", "Oldest first"),
    ("-amount", "Largest amount"),
    ("amount", "Smallest amount"),
    ("number", "Number"),
    ("vendor", "Vendor"),
]
_AMOUNT = re.compile(r"^\s*(?:[A-Za-z]{3}\s*)?([0-9][0-9,]*(?:\.[0-9]+)?)\s*(?:[A-Za-z]{3})?\s*$")


KINDS = [
    ("", "Bills and purchase orders"),
    *((kind.value, spec(kind).plural_label) for kind in (*DOCUMENTS, RecordKind.VENDOR)),
]


class FinderForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=KINDS, label="Show")
    q = forms.CharField(required=False, max_length=100, label="Search")
    state = forms.ChoiceField(required=False, choices=STATES, label="State")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    currency = forms.CharField(required=False, max_length=3, label="Currency")
    vendor = forms.CharField(required=False, max_length=200, label="Vendor")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort")

    def __init__(self, *args: Any, with_state: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_state:  # the held list: every row is held, and it lists held records of any kind
            del self.fields["state"], self.fields["kind"]

    def kind_value(self) -> str:
        return self.cleaned_data.get("kind", "") if self.is_valid() else ""

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns; its stub allows None
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The “From” date is after the “To” date.")
        return data

    def apply(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        if not self.is_valid():
            return rows.none()
        data = self.cleaned_data
        if text := data.get("q", "").strip():
            match = Q(doc_number__icontains=text) | Q(doc_vendor__icontains=text) | Q(procurify_id=text)
            if (amount := parse_amount(text)) is not None:
                match |= Q(doc_total=amount)
            rows = rows.filter(match)
        if data.get("kind") in DOCUMENTS:
            rows = rows.filter(object_type=data["kind"])
        if data.get("state"):
            rows = rows.filter(doc_state=data["state"])
        if data.get("date_from"):
            rows = rows.filter(doc_date__gte=data["date_from"])
        if data.get("date_to"):
            rows = rows.filter(doc_date__lte=data["date_to"])
        if data.get("currency"):
            rows = rows.filter(doc_currency=data["currency"])
        if data.get("vendor"):
            rows = rows.filter(doc_vendor__icontains=data["vendor"].strip())
        return rows.order_by(*SORTS.get(data.get("sort") or "-date", SORTS["-date"]))

    def query_string(self) -> str:
        """The current filters, for paging and export links."""
        if not self.is_bound:
            return ""
        from urllib.parse import urlencode

        return urlencode([(k, v) for k, v in self.data.items() if k != "page" and v])


def parse_amount(text: str) -> Decimal | None:
    match = _AMOUNT.match(text)
    return to_decimal(match.group(1).replace(",", "")) if match else None


# ---- the two row sources -------------------------------------------------------------------------


def _state(organisation: Any, type_ref: str, id_ref: str) -> Case:
    held = (
        HeldRecord.objects.for_org(organisation)
        .open()
        .filter(object_type=OuterRef(type_ref), procurify_id=OuterRef(id_ref))
    )
    synced = ExternalRecord.objects.filter(
        organisation=organisation,
        object_type=OuterRef(type_ref),
        procurify_id=OuterRef(id_ref),
        state=ExternalRecord.State.SYNCED,
    ).exclude(qbo_id="")
    return Case(
        When(Exists(held), then=Value("held")),
        When(Exists(synced), then=Value("synced")),
        default=Value("read"),
        output_field=CharField(),
    )


def documents(organisation: Any) -> QuerySet[DocumentSummary]:
    """Every bill and purchase order the product has read, with its state today."""
    return DocumentSummary.objects.filter(organisation=organisation).annotate(
        doc_number=F("number"),
        doc_vendor=F("vendor_name"),
        doc_currency=F("currency"),
        doc_total=F("total"),
        doc_date=F("document_date"),
        doc_due=F("due_date"),
        doc_state=_state(organisation, "object_type", "procurify_id"),
    )


def vendors(organisation: Any) -> QuerySet[VendorMapping]:
    """Every Procurify vendor the product knows, in the same shape: mapped means it is in QuickBooks."""
    held = (
        HeldRecord.objects.for_org(organisation)
        .open()
        .filter(
            object_type=RecordKind.VENDOR, procurify_id=Cast(OuterRef("procurify_vendor_id"), CharField())
        )
    )
    return VendorMapping.objects.filter(organisation=organisation).annotate(
        object_type=Value(RecordKind.VENDOR.value, output_field=CharField()),
        procurify_id=Cast("procurify_vendor_id", CharField()),
        doc_number=Value("", output_field=CharField()),
        doc_vendor=F("procurify_name"),
        doc_currency=F("procurify_currency"),
        doc_total=Value(None, output_field=DecimalField()),
        doc_date=Value(None, output_field=DateField()),
        doc_due=Value(None, output_field=DateField()),
        doc_state=Case(
            When(Exists(held), then=Value("held")),
            When(~Q(qbo_vendor_id=""), then=Value("synced")),
            default=Value("read"),
            output_field=CharField(),
        ),
    )


def with_documents(rows: QuerySet[HeldRecord]) -> QuerySet[HeldRecord]:
    """Held rows with what their document says (number, vendor, currency, amount, dates)."""
    summary = DocumentSummary.objects.filter(
        organisation=OuterRef("organisation"),
        object_type=OuterRef("doc_kind"),
        procurify_id=OuterRef("procurify_id"),
    )
    # A payment flag is keyed by its bill's id: its document is the bill.
    kind = Case(
        When(object_type=RecordKind.PAYMENT, then=Value(RecordKind.BILL.value)),
        default=F("object_type"),
        output_field=CharField(),
    )
    return rows.annotate(doc_kind=kind).annotate(
        doc_number=Subquery(summary.values("number")[:1]),
        doc_vendor=Subquery(summary.values("vendor_name")[:1]),
        doc_currency=Subquery(summary.values("currency")[:1]),
        doc_total=Subquery(summary.values("total")[:1]),
        doc_date=Subquery(summary.values("document_date")[:1]),
        doc_due=Subquery(summary.values("due_date")[:1]),
        doc_state=Value("held", output_field=CharField()),
    )


# ---- CSV -----------------------------------------------------------------------------------------

CSV_HEADER = [
    "type",
    "number",
    "vendor",
    "document_date",
    "due_date",
    "currency",
    "amount",
    "state",
    "procurify_id",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(rows: QuerySet[Any]) -> Iterator[list[str]]:
    fields = ("object_type", "doc_number", "doc_vendor", "doc_date", "doc_due", "doc_currency", "doc_total")
    yield CSV_HEADER
    for kind, number, vendor, day, due, currency, total, state, pid in rows.values_list(
        *fields, "doc_state", "procurify_id"
    ).iterator(chunk_size=500):
        amount = "" if total is None else str(quantize(Decimal(total), currency or ""))
        yield [kind, number or "", vendor or "", _iso(day), _iso(due), currency or "", amount, state, pid]


def _iso(value: Any) -> str:
    return value.isoformat() if value else ""


def stream_csv(rows: QuerySet[Any], filename: str) -> StreamingHttpResponse:
    """Streamed row by row from a server-side cursor: a 100,000-row export never sits in memory."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(_safe(row)) for row in csv_rows(rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(row: Iterable[str]) -> list[str]:
    # A cell starting with = + - @ is a formula to a spreadsheet; vendor names come from outside.
    return [
        f"'{cell}" if cell[:1] in ("=", "+", "@") or (cell[:1] == "-" and not _number(cell)) else cell
        for cell in row
    ]


def _number(cell: str) -> bool:
    return to_decimal(cell) is not None
