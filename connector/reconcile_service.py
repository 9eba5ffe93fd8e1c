"""Gathers the reconciliation's inputs for one organisation; connector/reconcile.py computes it.

- Procurify: the bills list (one page per 100 bills, no detail reads: sweep.py reads it the same way)
  gives each bill's status, vendor, number, currency and total as of now; the bill date comes from the
  document summary kept as bills are read (connector/document_summary.py). A bill without one, or whose
  version moved since, has its detail read once and its summary refreshed.
- What we wrote: our links (ExternalRecord) to the connected company, with the total and currency the
  writer remembered.
- QuickBooks now: our links' Ids, ``SELECT * FROM Bill WHERE Id IN (…)``, ID_CHUNK Ids per query
  (docs/qbo-facts.md, "Reconciliation reads"); each query is one metered read, counted and shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils import timezone

from connector import document_summary
from connector.client_factory import ClientFactory
from connector.kinds import RecordKind
from connector.models import AuditEvent, DocumentSummary, ExternalRecord, HeldRecord
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import Bill, BillSummary
from connector.qbo import query as q
from connector.qbo.client import QBOClient
from connector.reconcile import Hold, InQBO, ProcurifyBill, Reconciliation, Written, reconcile
from connector.sync.audit import redact
from connector.sync.preview import line_total
from connector.sync.sweep import EVERYTHING_SINCE
from connector.sync.transform import SYNC_STATUSES
from mappings.models import BooksProfile
from tenants.models import Organisation

ID_CHUNK = 100  # Ids per query: a short GET URL, and well under MAXRESULTS 1000


def build(
    organisation: Organisation,
    clients: ClientFactory,
) -> Reconciliation:
    procurify, qbo = clients.procurify(organisation), clients.qbo(organisation)
    links = {
        r.procurify_id: r
        for r in ExternalRecord.objects.filter(organisation=organisation, object_type=RecordKind.BILL)
        .exclude(qbo_id="")
        .filter(realm_id__in=(qbo.realm_id, ""))
    }
    listed = {
        row.uuid: row
        for row in procurify.iter_bills(EVERYTHING_SINCE, timezone.now())
        if isinstance(row, BillSummary)
    }
    wanted = {uuid for uuid, row in listed.items() if row.status in SYNC_STATUSES} | set(links)
    kept = _summaries(organisation, procurify, {u: listed[u] for u in wanted if u in listed})
    profile = BooksProfile.objects.filter(organisation=organisation).first()
    home = profile.qbo_home_currency if profile else ""
    bills = [_bill(uuid, listed.get(uuid), kept.get(uuid), links.get(uuid)) for uuid in sorted(wanted)]
    written = {uuid: _written(link, home) for uuid, link in links.items()}
    written.update(_written_before_amounts_were_kept(organisation, written, home))
    in_qbo, reads = qbo_bills(qbo, [link.qbo_id for link in links.values()], home)
    holds = {
        h.procurify_id: Hold(h.reason_code, h.message)
        for h in HeldRecord.objects.for_org(organisation).open().filter(object_type=RecordKind.BILL)
    }
    return reconcile(bills, written, in_qbo, holds, qbo_reads=reads)


def _summaries(
    organisation: Organisation, procurify: ProcurifyClient, listed: dict[str, BillSummary]
) -> dict[str, DocumentSummary]:
    bills = DocumentSummary.objects.filter(organisation=organisation, object_type=RecordKind.BILL)
    kept = {s.procurify_id: s for s in bills}
    stale = [u for u, row in listed.items() if u not in kept or kept[u].version != row.version]
    for uuid in stale:
        detail = procurify.get_bill(uuid)
        if isinstance(detail, Bill):  # summarised as the engine's read of it would be
            document_summary.remember(organisation.pk, RecordKind.BILL, uuid, redact(detail))
    if stale:
        kept.update({s.procurify_id: s for s in bills.filter(procurify_id__in=stale)})
    return kept


def _bill(
    uuid: str, row: BillSummary | None, snap: DocumentSummary | None, link: ExternalRecord | None
) -> ProcurifyBill:
    """Today's list row wins for what it carries; the summary gives the date (and all of it for a bill
    Procurify no longer lists)."""
    if row is not None:
        vendor = row.vendor.name if row.vendor else (snap.vendor_name if snap else "")
        currency = row.currency.name if row.currency else (snap.currency if snap else "")
        total = row.total_cost_with_tax if row.total_cost_with_tax is not None else None
        number = row.invoice_number or (snap.number if snap else "") or f"#{row.id}"
        return ProcurifyBill(
            uuid,
            vendor,
            number,
            snap.document_date if snap else None,
            currency,
            total,
            row.status in SYNC_STATUSES,
        )
    if snap is not None:
        return ProcurifyBill(
            uuid, snap.vendor_name, snap.number, snap.document_date, snap.currency, snap.total, False
        )
    label = link.label if link else uuid
    return ProcurifyBill(uuid, "", label, None, "", None, False)


def _written(link: ExternalRecord, home: str) -> Written:
    extra = link.extra or {}
    total = extra.get("written_total")
    return Written(
        link.procurify_id,
        link.qbo_id,
        Decimal(total) if total is not None else None,
        extra.get("written_currency") or home,
    )


def _written_before_amounts_were_kept(
    organisation: Organisation, written: dict[str, Written], home: str
) -> dict[str, Written]:
    """Links written before the writer kept its amounts: the last bill body the audit trail shows we sent
    (a create, an update or a batch item), which is what the link's payload hash stands for."""
    missing = {uuid: w for uuid, w in written.items() if w.total is None}
    if not missing:
        return {}
    requests = AuditEvent.objects.filter(
        organisation=organisation,
        object_type=RecordKind.BILL,
        procurify_id__in=missing,
        kind=AuditEvent.Kind.REQUEST,
    ).order_by("procurify_id", "-id")
    found: dict[str, Written] = {}
    for event in requests.iterator():
        if event.procurify_id in found:
            continue
        body = (event.data or {}).get("body") or {}
        body = body.get("Bill", body)  # a batch item wraps the bill
        if isinstance(body, dict) and "Line" in body:
            link = missing[event.procurify_id]
            currency = (body.get("CurrencyRef") or {}).get("value") or link.currency or home
            found[event.procurify_id] = Written(link.procurify_id, link.qbo_id, line_total(body), currency)
    return found


def qbo_bills(qbo: QBOClient, ids: list[str], home: str) -> tuple[dict[str, InQBO], int]:
    """What QuickBooks holds now for these bill Ids, and how many metered reads it took."""
    found: dict[str, InQBO] = {}
    reads = 0
    for chunk in _chunks(sorted(set(ids), key=_id_order), ID_CHUNK):
        # Whole objects: QBO's grammar has no field list (docs/qbo-facts.md, "Reconciliation reads").
        statement = q.select("Bill", q.in_("Id", chunk), max_results=1000)
        reads += 1
        for row in qbo.query(statement).get("Bill") or []:
            found[str(row["Id"])] = _in_qbo(row, home)
    return found, reads


def _in_qbo(row: dict[str, Any], home: str) -> InQBO:
    balance = row.get("Balance")
    return InQBO(
        qbo_id=str(row["Id"]),
        total=Decimal(str(row.get("TotalAmt") or 0)),
        balance=Decimal(str(balance)) if balance is not None else None,
        currency=str((row.get("CurrencyRef") or {}).get("value") or home),
        doc_number=str(row.get("DocNumber") or ""),
    )


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _id_order(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (0, value)
