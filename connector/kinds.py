"""The record kinds the connector syncs, and what every page, e-mail and step says about each.

One registry (style.md, "One vocabulary in one place"): `RecordKind` is the value stored in
`object_type` columns (ExternalRecord, HeldRecord, QBODrift, DocumentSummary); `KINDS` holds the
per-kind facts. Adding a kind means adding one enum member and one `KindSpec` here.
RecordKind is a str enum, so comparisons with stored strings keep working.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class RecordKind(models.TextChoices):
    BILL = "bill", "Bill"
    PURCHASE_ORDER = "purchase_order", "Purchase order"
    VENDOR = "vendor", "Vendor"
    VENDOR_CREDIT = "vendor_credit", "Vendor credit"  # a negative Procurify bill (connector/sync/credits.py)
    PAYMENT = "payment", "Payment"  # keyed on the Procurify payment's uuid (connector/sync/payments.py)
    ATTACHMENT = "attachment", "Invoice file"  # keyed "<bill uuid>:<file id>" (connector/sync/attachments.py)


@dataclass(frozen=True)
class KindSpec:
    """What people read about a kind, and what it becomes in QuickBooks."""

    label: str  # "Purchase order": a heading or a table cell
    noun: str  # "purchase order": inside a sentence
    plural: str  # "purchase orders"
    qbo_entity: str  # the QuickBooks entity it is written as
    document: bool = False  # a Procurify document: summarised, compared with QuickBooks, replayable
    # What a held group of this kind is called ("3 bills wait on..."); "" = "record"/"records".
    held_noun: tuple[str, str] = ("", "")
    page: bool = True  # has its own record page (a vendor credit's page stays its bill's)

    @property
    def plural_label(self) -> str:
        return self.plural.capitalize()

    @property
    def procurify_noun(self) -> str:
        return f"Procurify {self.noun}"


KINDS: dict[RecordKind, KindSpec] = {
    RecordKind.BILL: KindSpec("Bill", "bill", "bills", "Bill", True, ("bill", "bills")),
    RecordKind.PURCHASE_ORDER: KindSpec(
        "Purchase order",
        "purchase order",
        "purchase orders",
        "PurchaseOrder",
        True,
        ("purchase order", "purchase orders"),
    ),
    RecordKind.VENDOR: KindSpec("Vendor", "vendor", "vendors", "Vendor", held_noun=("vendor", "vendors")),
    RecordKind.VENDOR_CREDIT: KindSpec(
        "Vendor credit", "vendor credit", "vendor credits", "VendorCredit", page=False
    ),
    RecordKind.PAYMENT: KindSpec(
        "Payment", "payment", "payments", "BillPayment", held_noun=("payment", "payments")
    ),
    RecordKind.ATTACHMENT: KindSpec("Invoice file", "invoice file", "invoice files", "Attachable"),
}

# Kinds a Procurify bill is written as: a QBO Bill, or a VendorCredit when negative (credits.py).
BILL_LINKS: tuple[RecordKind, ...] = (RecordKind.BILL, RecordKind.VENDOR_CREDIT)
DOCUMENTS: tuple[RecordKind, ...] = tuple(k for k, spec in KINDS.items() if spec.document)
BY_QBO_ENTITY: dict[str, RecordKind] = {spec.qbo_entity: kind for kind, spec in KINDS.items()}
# Kinds with a record page of their own, and the label it is headed with.
PAGE_LABELS: dict[str, str] = {kind.value: spec.label for kind, spec in KINDS.items() if spec.page}


def spec(kind: str) -> KindSpec:
    """The facts of a stored object_type; ValueError for a string that is not a kind."""
    return KINDS[RecordKind(kind)]


def label(kind: str) -> str:
    """A kind's label, or the raw string for anything that is not a registered kind."""
    return KINDS[RecordKind(kind)].label if kind in RecordKind.values else kind


def plural(kind: str) -> str:
    """ "bills", "invoice files"; anything that is not a registered kind gets an "s"."""
    return KINDS[RecordKind(kind)].plural if kind in RecordKind.values else f"{kind}s"
