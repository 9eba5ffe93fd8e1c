"""Reference data for tax codes, classes and locations: read only for companies that use them, so a
US company without classes or locations costs no extra metered call per poll (§14 metering)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import MalformedRecord
from connector.qbo import query as q
from connector.qbo.client import QBOClient
from connector.sync.audit import Audit
from connector.sync.dimensions import Dimensions
from connector.sync.tax import TaxCode
from connector.sync.transform import Ref
from mappings import dimension_services
from mappings.dimension_models import (
    ClassMapping,
    DimensionSettings,
    LocationMapping,
    QBOClass,
    QBOLocation,
    QBOTaxCode,
    TaxMapping,
)
from mappings.models import BooksProfile
from tenants.models import Organisation


def refresh(
    organisation: Organisation,
    procurify: ProcurifyClient,
    qbo: QBOClient,
    audit: Audit,
    profile: BooksProfile,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    if profile.qbo_line_tax:
        counts["qbo_tax_codes"] = _tax_codes(organisation, qbo)
        counts["taxes_noted"] = dimension_services.note_held_taxes(organisation)
    if profile.qbo_class_tracking:
        counts["qbo_classes"] = _names(organisation, qbo, "Class", QBOClass)
    if profile.qbo_track_locations:
        counts["qbo_locations"] = _names(organisation, qbo, "Department", QBOLocation)
    if profile.qbo_class_tracking or profile.qbo_track_locations:
        departments = [d for d in procurify.iter_departments() if not isinstance(d, MalformedRecord)]
        dimension_services.note_departments(organisation, departments)
        counts["procurify_departments"] = len(departments)
    for notice in dimension_services.notices(organisation):
        audit.record("decision", notice)
    if counts:
        audit.record("read", "Tax codes, classes and locations refreshed.", data=counts)
    return counts


def _tax_codes(organisation: Organisation, qbo: QBOClient) -> int:
    rates = {str(r.Id): str(getattr(r, "RateValue", 0)) for r in qbo.query_all("TaxRate", q.active_any())}
    n = 0
    for code in qbo.query_all("TaxCode", q.active_any()):
        details = ((getattr(code, "PurchaseTaxRateList", None) or {}).get("TaxRateDetail")) or []
        purchase = [
            [str(d["TaxRateRef"]["value"]), rates.get(str(d["TaxRateRef"]["value"]), "0")]
            for d in details
            if isinstance(d, dict) and d.get("TaxRateRef")
        ]
        QBOTaxCode.objects.update_or_create(
            organisation=organisation,
            qbo_id=str(code.Id),
            defaults={
                "name": (getattr(code, "Name", "") or "")[:100],
                "active": bool(getattr(code, "Active", True)),
                "purchase_rates": purchase,
            },
        )
        n += 1
    return n


def _names(organisation: Organisation, qbo: QBOClient, entity: str, model: Any) -> int:
    n = 0
    for obj in qbo.query_all(entity, q.active_any()):
        name = getattr(obj, "FullyQualifiedName", None) or getattr(obj, "Name", "") or ""
        model.objects.update_or_create(
            organisation=organisation,
            qbo_id=str(obj.Id),
            defaults={"name": name[:200], "active": bool(getattr(obj, "Active", True))},
        )
        n += 1
    return n


def load(organisation: Organisation) -> tuple[dict[str, TaxCode], Dimensions]:
    """The mapped tax codes by tax key, and the classes and locations, for the transforms."""
    codes = {c.qbo_id: c for c in QBOTaxCode.objects.filter(organisation=organisation)}
    tax_codes = {}
    for mapping in TaxMapping.objects.filter(organisation=organisation).exclude(qbo_id=""):
        code = codes.get(mapping.qbo_id)
        rates = tuple((rid, Decimal(pct)) for rid, pct in (code.purchase_rates if code else []))
        tax_codes[mapping.key] = TaxCode(mapping.qbo_id, mapping.qbo_name, bool(code and code.active), rates)
    settings = DimensionSettings.objects.filter(organisation=organisation).first()
    if settings is None:
        return tax_codes, Dimensions()
    return tax_codes, Dimensions(
        class_placement=settings.class_placement,
        location_on_bill=settings.location_on_bill,
        classes=_refs(organisation, ClassMapping, QBOClass, "procurify_department_id"),
        locations=_refs(organisation, LocationMapping, QBOLocation, "procurify_location_id"),
    )


def _refs(organisation: Organisation, model: Any, qbo_model: Any, key: str) -> dict[int, Ref]:
    active = dict(qbo_model.objects.filter(organisation=organisation).values_list("qbo_id", "active"))
    return {
        getattr(m, key): Ref(m.qbo_id, m.qbo_name, active.get(m.qbo_id, True))
        for m in model.objects.filter(organisation=organisation).exclude(qbo_id="")
    }
