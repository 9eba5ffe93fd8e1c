"""Procurify's figures per bill (vendor, number, date, currency, total, status), kept as bills are read.

The reconciliation (connector/reconcile_service.py) compares them with what we wrote and what
QuickBooks holds now; the bill list alone has no bill date, so the date comes from here.
"""

from __future__ import annotations

from datetime import date, datetime

from connector.models import BillSnapshot
from connector.procurify.schemas import Bill
from connector.sync.transform import Mappings
from connector.sync.transform import _local_date as local_date
from tenants.models import Organisation


def bill_date(bill: Bill, mappings: Mappings) -> date:
    """The date the bill's QuickBooks TxnDate gets (transform.bill_plan's rule), so months agree."""
    when: datetime = bill.invoice_date or bill.submitted_date or bill.last_modified_datetime
    return date.fromisoformat(local_date(when, mappings))


FIELDS = ("version", "status", "vendor_id", "vendor_name", "number", "bill_date", "currency", "total")


def remember(organisation: Organisation, bill: Bill, mappings: Mappings) -> BillSnapshot:
    """Insert or overwrite the bill's snapshot in one statement (the engine calls this for every bill)."""
    snapshot = BillSnapshot(
        organisation=organisation,
        procurify_id=str(bill.uuid),
        version=bill.version,
        status=bill.status,
        vendor_id=bill.vendor.id,
        vendor_name=(bill.vendor_name or bill.vendor.name or "")[:200],
        number=(bill.invoice_number or f"#{bill.id}")[:100],
        bill_date=bill_date(bill, mappings),
        currency=(bill.currency.name or "")[:3],
        total=bill.total_cost_with_tax,  # exact: never rounded here (four places stored)
    )
    BillSnapshot.objects.bulk_create(
        [snapshot],
        update_conflicts=True,
        unique_fields=["organisation", "procurify_id"],
        update_fields=[*FIELDS, "read_at"],
    )
    return snapshot
