"""Bills and POs as the engine's audit trail records them when it reads them (decimal strings)."""

from __future__ import annotations

from typing import Any

from connector.sync.audit import Audit
from tenants.models import Organisation


def read_bill(
    organisation: Organisation,
    uuid: str,
    number: str,
    total: str,
    *,
    currency: str = "USD",
    vendor: tuple[int, str] = (101, "Delta Freight Logistics"),
    invoice_date: str = "2026-11-03T00:00:00Z",
    due_date: str = "2026-12-03T00:00:00Z",
    **extra: Any,
) -> None:
    data = {
        "id": abs(hash(uuid)) % 100000,
        "uuid": uuid,
        "status": 2,
        "invoice_number": number,
        "invoice_date": invoice_date,
        "due_date": due_date,
        "vendor": {"id": vendor[0], "name": vendor[1]},
        "currency": {"name": currency, "rate": "1.00000"},
        "total_cost_with_tax": total,
        **extra,
    }
    # Through the engine's own audit writer, so what is stored is redacted exactly as in a run.
    Audit(organisation).record(
        "read", f"Read Procurify bill {number} (status 2).", object_type="bill", procurify_id=uuid, data=data
    )
