"""Reference data: read QBO vendors, accounts and terms and Procurify vendors and account codes,
refresh the mapping tables, auto-match, and build the in-memory `Mappings` the transforms use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db import models

from connector.kinds import RecordKind
from connector.models import ExternalRecord, SyncRun
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import AccountCode, Currency, MalformedRecord, Vendor
from connector.qbo import query as q
from connector.qbo.client import QBOClient
from connector.qbo.schemas import CompanyInfo
from connector.sync import company, dimension_reference, reference_schedule
from connector.sync.audit import Audit
from connector.sync.books import load_books, refresh_books
from connector.sync.shapes import Mappings, POLink, Ref
from mappings import matching
from mappings.models import AccountMapping, QBOAccount, QBOTerm, QBOVendor, VendorMapping
from mappings.normalise import normalise_name
from tenants.models import Organisation

OTHER_VENDOR_TYPE = 1  # Procurify's reserved "OTHER" vendor (procurify.md §3): never synced


def refresh_reference(
    organisation: Organisation,
    procurify: ProcurifyClient,
    qbo: QBOClient,
    audit: Audit,
    now: datetime,
    *,
    company_info: CompanyInfo | None = None,
    trigger: str | None = SyncRun.Trigger.MANUAL,
    started_at: datetime | None = None,
) -> dict[str, int]:
    """Procurify's lists every run (free for QuickBooks); QuickBooks' only when something needs them
    (reference_schedule.py), so a poll that finds nothing new makes no metered call."""
    counts: Counter[str] = Counter()
    company.start_fresh_if_switched(organisation, qbo.realm_id, audit)
    known = _known_procurify_ids(organisation)
    currencies = _procurify_currencies(procurify, audit)
    names = {c.id: c.name.strip().upper() for c in currencies if c.id is not None}
    counts["procurify_vendors"] = _procurify_vendors(organisation, procurify, audit, now, names)
    counts["procurify_account_codes"] = _procurify_codes(organisation, procurify, audit, now)
    new = _known_procurify_ids(organisation) - known
    reason = reference_schedule.due_reason(organisation, now, trigger) or ("new" if new else "")
    if reason:
        base = procurify_base(currencies)
        # Stamped with the run's start, like every cursor: never later than what the run has seen.
        _refresh_qbo(
            organisation, procurify, qbo, audit, started_at or now, counts, base, company_info, reason
        )
    result = matching.auto_match_vendors(organisation)
    for mapping in result.matched:
        audit.record(
            "mapping",
            f"Vendor '{mapping.procurify_name}' mapped automatically: {mapping.reason}",
            object_type=RecordKind.VENDOR,
            procurify_id=str(mapping.procurify_vendor_id),
        )
        counts["vendors_matched"] += 1
    for demoted in result.demoted:
        audit.record(
            "mapping",
            demoted.message,
            object_type=RecordKind.VENDOR,
            procurify_id=str(demoted.mapping.procurify_vendor_id),
        )
        counts["vendors_demoted"] += 1
    for mapping in result.suggested:
        audit.record(
            "mapping",
            f"Vendor '{mapping.procurify_name}' may be QuickBooks vendor "
            f"'{mapping.suggested_qbo_vendor_name}' ({mapping.suggestion_reason}); waiting for a person.",
            object_type=RecordKind.VENDOR,
            procurify_id=str(mapping.procurify_vendor_id),
        )
        counts["vendors_suggested"] += 1
    for account in matching.auto_match_accounts(organisation):
        audit.record(
            "mapping",
            f"Account code {account.code} mapped automatically: {account.reason}",
            object_type="account_code",
            procurify_id=str(account.procurify_account_code_id),
        )
        counts["accounts_matched"] += 1
    audit.record("read", "Reference data refreshed.", data=dict(counts))
    return dict(counts)


def _refresh_qbo(
    organisation: Organisation,
    procurify: ProcurifyClient,
    qbo: QBOClient,
    audit: Audit,
    now: datetime,
    counts: Counter[str],
    base: str,
    company_info: CompanyInfo | None,
    reason: str,
) -> None:
    profile = refresh_books(organisation, base, qbo, info=company_info)
    audit.record(
        "read",
        f"QuickBooks home currency {profile.qbo_home_currency}, multicurrency "
        f"{'on' if profile.qbo_multicurrency else 'off'}; Procurify base currency "
        f"{profile.procurify_base_currency or 'unknown'}.",
        data={"warn_duplicate_bill_number": profile.qbo_warn_duplicate_bill_number, "why": reason},
    )
    counts["qbo_vendors"] = _qbo_vendors(organisation, qbo)
    counts["qbo_accounts"] = _qbo_accounts(organisation, qbo)
    counts["qbo_terms"] = _qbo_terms(organisation, qbo)
    # Tax codes, classes and locations (and Procurify's departments they map from), for the companies
    # that use them: with the other QuickBooks lists, so an unchanged poll stays free of metered reads.
    counts.update(dimension_reference.refresh(organisation, procurify, qbo, audit, profile))
    reference_schedule.mark_refreshed(organisation, now)


def _known_procurify_ids(organisation: Organisation) -> set[tuple[str, int]]:
    vendor_rows = VendorMapping.objects.filter(organisation=organisation)
    vendors = vendor_rows.values_list("procurify_vendor_id", flat=True)
    codes = AccountMapping.objects.filter(organisation=organisation).values_list(
        "procurify_account_code_id", flat=True
    )
    return {(RecordKind.VENDOR.value, v) for v in vendors} | {("account_code", c) for c in codes}


def _procurify_currencies(procurify: ProcurifyClient, audit: Audit) -> list[Currency]:
    return list(_readable(procurify.iter_currencies(), audit, "currency", "currency"))


def procurify_base(currencies: Iterable[Currency]) -> str:
    """The currency Procurify converts totals to; "" unless exactly one is marked base."""
    bases = {c.name.strip().upper() for c in currencies if c.base}
    return bases.pop() if len(bases) == 1 else ""


def _mirror(
    organisation: Organisation,
    qbo: QBOClient,
    entity: str,
    model: type[models.Model],
    fields: Callable[[Any], dict[str, Any]],
) -> int:
    """Copy one QBO name list (active and inactive) into its table with one upsert per 500 rows rather
    than two queries per row. Rows QBO no longer returns are kept: name lists are never hard-deleted."""
    values = [(str(obj.Id), fields(obj)) for obj in qbo.query_all(entity, q.active_any())]
    if values:
        model._default_manager.bulk_create(
            [model(organisation=organisation, qbo_id=qbo_id, **row) for qbo_id, row in values],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["organisation", "qbo_id"],
            update_fields=list(values[0][1]),
        )
    return len(values)


def _vendor_fields(vendor: Any) -> dict[str, Any]:
    name = getattr(vendor, "DisplayName", None) or ""
    return {
        "display_name": name,
        "normalised_name": normalise_name(name),
        "active": bool(vendor.Active),
        "currency": _currency_code(vendor),
    }


def _account_fields(account: Any) -> dict[str, Any]:
    return {
        "name": account.Name or "",
        "fully_qualified_name": account.FullyQualifiedName or "",
        "acct_num": account.AcctNum or "",
        "account_type": account.AccountType or "",
        "classification": account.Classification or "",
        "active": bool(account.Active),
        "currency": _currency_code(account),
    }


def _currency_code(obj: Any) -> str:
    ref = getattr(obj, "CurrencyRef", None)
    return ((getattr(ref, "value", None) or "").strip().upper())[:3]


def _term_fields(term: Any) -> dict[str, Any]:
    return {"name": getattr(term, "Name", "") or "", "active": bool(getattr(term, "Active", True))}


def _qbo_vendors(organisation: Organisation, qbo: QBOClient) -> int:
    return _mirror(organisation, qbo, "Vendor", QBOVendor, _vendor_fields)


def _qbo_accounts(organisation: Organisation, qbo: QBOClient) -> int:
    return _mirror(organisation, qbo, "Account", QBOAccount, _account_fields)


def _qbo_terms(organisation: Organisation, qbo: QBOClient) -> int:
    return _mirror(organisation, qbo, "Term", QBOTerm, _term_fields)


def _procurify_vendors(
    organisation: Organisation,
    procurify: ProcurifyClient,
    audit: Audit,
    now: datetime,
    currency_names: dict[int, str],
) -> int:
    rows = (
        (
            vendor.id,
            {
                "procurify_name": vendor.name[:200],
                "normalised_name": normalise_name(vendor.name)[:200],
                "procurify_active": vendor.active,
                "procurify_currency": currency_names.get(vendor.currency or -1, "")[:10],
            },
        )
        for vendor in _readable(procurify.iter_vendors(), audit, RecordKind.VENDOR, "vendor")
        if not _is_other(vendor)
    )
    return _mirror_procurify(VendorMapping, organisation, "procurify_vendor_id", rows, now)


def _readable(records: Iterable[Any], audit: Audit, object_type: str, noun: str) -> Iterator[Any]:
    """The records that parsed; each unreadable one is audited and skipped, so one bad row never
    stops the reference refresh."""
    for record in records:
        if isinstance(record, MalformedRecord):
            audit.record(
                "error",
                f"Unreadable Procurify {noun}: {record.error}",
                object_type=object_type,
                procurify_id=record.record_id or "",
            )
            continue
        yield record


def _is_other(vendor: Vendor) -> bool:
    return vendor.type == OTHER_VENDOR_TYPE or (vendor.id == 1 and vendor.name.upper() == "OTHER")


def _procurify_codes(
    organisation: Organisation, procurify: ProcurifyClient, audit: Audit, now: datetime
) -> int:
    codes = _readable(procurify.iter_account_codes(), audit, "account_code", "account code")
    rows = ((code.id, _code_fields(code)) for code in codes)
    return _mirror_procurify(AccountMapping, organisation, "procurify_account_code_id", rows, now)


def _code_fields(code: AccountCode) -> dict[str, Any]:
    return {"code": code.code, "description": (code.description or "")[:200], "procurify_active": code.active}


def _mirror_procurify(
    model: type[VendorMapping] | type[AccountMapping],
    organisation: Organisation,
    key: str,
    rows: Iterable[tuple[int, dict[str, Any]]],
    now: datetime,
) -> int:
    """Keep our copy of one Procurify list: new rows inserted together, a row whose fields changed
    updated, and every listed row's ``seen_at`` stamped in one statement. A poll that finds the list
    unchanged makes three statements, not two per row (docs/scaling.md)."""
    manager = model._default_manager
    stored = {getattr(row, key): row for row in manager.filter(organisation=organisation)}
    new: dict[int, Any] = {}
    seen: set[int] = set()
    listed = 0
    for ident, fields in rows:
        listed += 1
        row = stored.get(ident) or new.get(ident)
        if row is None:
            new[ident] = model(organisation=organisation, **{key: ident}, **fields, seen_at=now)
            continue
        if any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            if row.pk is not None:  # a new row listed twice (a page moved) is inserted with these values
                row.save(update_fields=[*fields])
        if row.pk is not None:
            seen.add(ident)
    manager.bulk_create(new.values())
    if seen:
        manager.filter(organisation=organisation, **{f"{key}__in": sorted(seen)}).update(seen_at=now)
    return listed


def load_mappings(organisation: Organisation) -> Mappings:
    """Everything the transforms need, read once per step from the database."""
    qbo_vendors = {
        qbo_id: (active, currency)
        for qbo_id, active, currency in QBOVendor.objects.filter(organisation=organisation).values_list(
            "qbo_id", "active", "currency"
        )
    }
    account_active = dict(
        QBOAccount.objects.filter(organisation=organisation).values_list("qbo_id", "active")
    )
    vendors = {
        m.procurify_vendor_id: Ref(
            m.qbo_vendor_id, m.qbo_vendor_name, *qbo_vendors.get(m.qbo_vendor_id, (True, ""))
        )
        for m in VendorMapping.objects.filter(organisation=organisation).exclude(qbo_vendor_id="")
    }
    accounts = {
        m.procurify_account_code_id: Ref(
            m.qbo_account_id, m.qbo_account_name, account_active.get(m.qbo_account_id, True)
        )
        for m in AccountMapping.objects.filter(organisation=organisation).exclude(qbo_account_id="")
    }
    terms = {
        t.name.strip().lower(): t.qbo_id
        for t in QBOTerm.objects.filter(organisation=organisation, active=True)
    }
    tax_codes, dimensions = dimension_reference.load(organisation)
    return Mappings(
        vendors,
        accounts,
        terms,
        _po_links(organisation),
        organisation.time_zone,
        load_books(organisation),
        tax_codes=tax_codes,
        dimensions=dimensions,
    )


def _po_links(organisation: Organisation) -> dict[str, POLink]:
    links = {}
    rows = ExternalRecord.objects.filter(
        organisation=organisation, object_type=RecordKind.PURCHASE_ORDER, state=ExternalRecord.State.SYNCED
    )
    for procurify_id, qbo_id, extra in rows.values_list("procurify_id", "qbo_id", "extra"):
        by_item = (extra or {}).get("line_ids_by_order_item") or {}
        links[procurify_id] = POLink(qbo_id, by_item)
    return links
