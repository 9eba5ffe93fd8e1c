"""What a record is called on the pages and where its page is: type names, the record page's address,
the labels of records a run touched. Shared by the held list, the record and run pages, the dashboard
and the e-mails."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from connector.models import ExternalRecord, HeldRecord
from connector.sync import credits
from tenants.models import Organisation


def record_path(organisation: Organisation, object_type: str, procurify_id: str) -> str:
    return reverse("connector-record", args=[organisation.public_id, object_type, procurify_id])


def labels(organisation: Organisation, rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(object type, Procurify id) → the label a hold or a link carries, for rows of audit events."""
    ids = [r["procurify_id"] for r in rows]
    found_labels: dict[tuple[str, str], str] = {}
    for model in (HeldRecord, ExternalRecord):
        found = model.objects.filter(organisation=organisation, procurify_id__in=ids).exclude(label="")
        for object_type, procurify_id, label in found.values_list("object_type", "procurify_id", "label"):
            # A vendor credit's events are filed under its bill.
            found_labels[(credits.record_type(object_type), procurify_id)] = label
    return found_labels
