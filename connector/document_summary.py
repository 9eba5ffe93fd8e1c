"""What a Procurify bill or purchase order says, in a row the finance pages can search and total.

The engine already records every bill and PO it reads as an audit "read" event (the whole record,
money as decimal strings). A receiver on that event keeps one small summary per document — number,
vendor, currency, total, dates — so the held list, the run pages and the documents list can show
and total amounts without parsing audit JSON per row, and without any change to the engine.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models.signals import post_save

from connector.kinds import DOCUMENTS, RecordKind
from connector.money import to_decimal
from tenants.models import Organisation

SUMMARISED = DOCUMENTS


class DocumentSummary(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="document_summaries"
    )
    object_type = models.CharField(max_length=20, choices=RecordKind.choices)
    procurify_id = models.CharField(max_length=64)
    number = models.CharField(max_length=100, blank=True)  # invoice number or PO number
    vendor_id = models.CharField(max_length=32, blank=True)  # Procurify vendor id
    vendor_name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    document_date = models.DateField(null=True, blank=True)  # bill date / PO date
    due_date = models.DateField(null=True, blank=True)
    status = models.IntegerField(null=True, blank=True)  # a bill's status, a PO's state, as last read
    version = models.IntegerField(null=True, blank=True)  # Procurify's version: a newer one means re-read
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "connector"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "object_type", "procurify_id"],
                name="connector_documentsummary_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "number"]),
            models.Index(fields=["organisation", "total"]),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.number or self.procurify_id}"


def summary_fields(object_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The summary of a bill or PO as the audit trail stored it (Procurify's field names)."""
    if object_type == RecordKind.BILL:
        vendor = data.get("vendor") or {}
        currency = data.get("currency") or {}
        return {
            "number": str(data.get("invoice_number") or "")[:100],
            "vendor_id": str(vendor.get("id") or "")[:32],
            "vendor_name": str(vendor.get("name") or data.get("vendor_name") or "")[:200],
            "currency": str(currency.get("name") or "")[:3].upper(),
            "total": to_decimal(data.get("total_cost_with_tax")),
            "document_date": _day(data.get("invoice_date") or data.get("submitted_date")),
            "due_date": _day(data.get("due_date")),
            "status": _int(data.get("status")),
            "version": _int(data.get("version")),
        }
    vendor = data.get("pref_vendor") or {}
    currency = data.get("purchased_currency") or {}
    return {
        "number": str(data.get("number") or "")[:100],
        "vendor_id": str(vendor.get("id") or "")[:32],
        "vendor_name": str(vendor.get("name") or "")[:200],
        "currency": str(currency.get("name") or "")[:3].upper(),
        "total": to_decimal(data.get("total")),
        "document_date": _day(data.get("date")),
        "due_date": None,
        "status": _int(data.get("state")),
        "version": _int(data.get("version")),
    }


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _day(value: Any) -> date | None:
    # Stored as ISO text; the date part is what Procurify shows (no zone shift of a calendar date).
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.fromisoformat(value[:10]).date()
    except ValueError:
        return None


def remember(organisation_id: int, object_type: str, procurify_id: str, data: Any) -> None:
    # Only a read that carries the record itself: lookups and SyncToken re-reads are "read" events too.
    if (
        object_type not in SUMMARISED
        or not procurify_id
        or not isinstance(data, dict)
        or not data.get("uuid")
    ):
        return
    fields = summary_fields(object_type, data)
    # One INSERT … ON CONFLICT DO UPDATE: a run reads thousands of bills, so this costs one round trip each.
    DocumentSummary.objects.bulk_create(
        [
            DocumentSummary(
                organisation_id=organisation_id, object_type=object_type, procurify_id=procurify_id, **fields
            )
        ],
        update_conflicts=True,
        unique_fields=["organisation", "object_type", "procurify_id"],
        update_fields=[*fields, "updated_at"],
    )


def _on_audit_event(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created and instance.kind == "read":
        remember(instance.organisation_id, instance.object_type, instance.procurify_id, instance.data)


def connect() -> None:
    # A lazy "app.Model" sender: connector.models imports this module, so it cannot import them back.
    post_save.connect(_on_audit_event, sender="connector.AuditEvent", dispatch_uid="document_summary")
