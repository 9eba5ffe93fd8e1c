"""After a real run against the sandbox: the figures the finance pages show agree with Procurify and
with what QuickBooks holds, to the cent, and account codes survive redaction in the audit trail."""

from __future__ import annotations

from decimal import Decimal

from connector.document_summary import DocumentSummary
from connector.models import AuditEvent, ExternalRecord, HeldRecord
from connector.money import format_money


def test_summaries_match_procurify_and_quickbooks_to_the_cent(harness, org_a, owner) -> None:
    harness.run(org_a)

    held = HeldRecord.objects.get(organisation=org_a, label__contains="GLF-20931")
    source = harness.procurify.get_bill(held.procurify_id)  # the bill as Procurify's API gives it
    summary = DocumentSummary.objects.get(
        organisation=org_a, object_type="bill", procurify_id=held.procurify_id
    )
    assert summary.total == source.total_cost_with_tax and summary.total > 0
    assert (summary.number, summary.vendor_name) == ("GLF-20931", source.vendor.name)
    assert summary.currency == source.currency.name

    qbo = {b["Id"]: b for b in harness.bills()}
    written = ExternalRecord.objects.filter(organisation=org_a, object_type="bill", state="synced")
    assert written.count() > 10
    for record in written:
        lines = sum(Decimal(str(line["Amount"])) for line in qbo[record.qbo_id]["Line"])
        ours = DocumentSummary.objects.get(
            organisation=org_a, object_type="bill", procurify_id=record.procurify_id
        )
        assert ours.total == lines, record.label

    # The account code the bill waits on is readable in its audit trail (not "[redacted]").
    read = AuditEvent.objects.filter(
        organisation=org_a, object_type="bill", procurify_id=held.procurify_id, kind="read"
    ).first()
    assert '"code": "6550"' in __import__("json").dumps(read.data)

    page = owner.client.get(f"/o/{org_a.public_id}/held/", {"q": "GLF-20931"}).content.decode()
    assert format_money(summary.total, summary.currency) in page
    record_page = owner.client.get(f"/o/{org_a.public_id}/records/bill/{held.procurify_id}/").content.decode()
    assert "<code>6550</code>" in record_page and "→ not mapped" in record_page
