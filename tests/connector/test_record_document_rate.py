"""The record page's exchange rate is read from Procurify's totals, whatever they carry."""

from __future__ import annotations

from connector import record_document
from connector.kinds import RecordKind
from connector.models import AuditEvent


def _read(data: dict) -> AuditEvent:
    return AuditEvent(kind=AuditEvent.Kind.READ, data=data)


def test_a_zero_pre_tax_total_falls_back_to_the_total_with_tax(org_a) -> None:
    # total_cost "0.00" is a string, so truthy: it once reached the division and raised ZeroDivisionError.
    doc = {
        "uuid": "b-1",
        "invoice_number": "GLF-1",
        "currency": {"name": "eur"},
        "total_cost": "0.00",
        "total_cost_with_tax": "100.00",
        "converted_total_cost": "135.00",
        "items": [],
    }
    page = record_document.build(org_a, RecordKind.BILL, [_read(doc)], in_qbo=False)
    rate = next(fact["ours"] for fact in page["facts"] if fact["label"] == "Exchange rate")
    assert rate == "1.350000"
