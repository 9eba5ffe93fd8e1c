"""Creating a Procurify vendor in QuickBooks, written once for the engine's vendor step and the
mapping page's "Create in QuickBooks" (mappings/services.py).

Exactly once: the write goes through the Writer as ExternalRecord object type "vendor", keyed and
marked by the Procurify id, so a create the engine already made (or half-made) is found and adopted
rather than duplicated. The vendor is created in its own currency: QuickBooks fixes a vendor's
currency for good (docs/qbo-facts.md, Currencies).
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.kinds import RecordKind
from connector.sync.audit import RecordAudit
from connector.sync.batch import QUEUED
from connector.sync.sinks import SINGLE, WriteSink
from connector.sync.transform import Books, Plan, new_vendor_currency, vendor_payload
from connector.sync.writers import Writer, WriteResult
from mappings.models import VendorMapping

VENDOR = RecordKind.VENDOR  # the ExternalRecord object type of the vendors we create


@dataclass(frozen=True)
class VendorWrite:
    plan: Plan
    result: WriteResult | None  # None: queued in a batch, settled (and mapped) with it

    @property
    def name(self) -> str:
        return str(self.plan.payload["DisplayName"])

    @property
    def currency(self) -> str:
        return created_currency(self.plan)


def created_currency(plan: Plan) -> str:
    """The currency a vendor plan creates the vendor in; "" in a single-currency company."""
    return str(plan.payload.get("CurrencyRef", {}).get("value", ""))


def vendor_plan(mapping: VendorMapping, books: Books) -> Plan:
    """The QuickBooks vendor for an unmapped Procurify vendor. Raises Held when it cannot be created
    (books not read yet, currency unknown, or a foreign currency with multicurrency off)."""
    key = str(mapping.procurify_vendor_id)
    currency = new_vendor_currency(mapping.procurify_name, mapping.procurify_currency, books)
    payload = vendor_payload(mapping.procurify_name, currency=currency)
    return Plan("Vendor", payload, f"Vendor {mapping.procurify_name}", key, "", None)


def create_vendor(
    mapping: VendorMapping,
    books: Books,
    writer: Writer,
    audit: RecordAudit,
    *,
    sink: WriteSink = SINGLE,
) -> VendorWrite:
    """Write the vendor (or queue it in ``sink``). Raises Held, or the writer's ConnectorError."""
    key = str(mapping.procurify_vendor_id)
    plan = vendor_plan(mapping, books)
    if sink.offer(VENDOR, key, plan.label, plan, audit) == QUEUED:
        return VendorWrite(plan, None)
    return VendorWrite(plan, writer.write(VENDOR, key, plan, audit))
