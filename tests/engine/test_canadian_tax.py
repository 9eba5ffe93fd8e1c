"""Sales tax outside the US, classes and locations, end to end against the sandbox's Canadian company.

What QuickBooks stores is the proof: each written bill's TotalAmt and tax (computed by the sandbox
from the tax codes, as QuickBooks does) equal Procurify's to the cent; what cannot be proven is held.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from connector.models import HeldRecord, SyncRun
from mappings import dimension_services
from mappings.dimension_models import ClassMapping, LocationMapping, TaxMapping
from mappings.models import BooksProfile
from sandbox import Sandbox
from tests.engine.conftest import NOW, Harness, build_harness

DOMAIN = "maplewood"


@pytest.fixture
def ca_sb() -> Sandbox:
    return Sandbox.create(seed="canada", now=NOW)


@pytest.fixture
def ca(ca_sb: Sandbox) -> Iterator[Harness]:
    h = build_harness(ca_sb, domain=DOMAIN)
    yield h
    h.http.close()


def _held(org) -> dict[str, HeldRecord]:
    return {h.label.split(" ")[1]: h for h in HeldRecord.objects.filter(organisation=org, object_type="bill")}


def _procurify_total(ca: Harness, number: str) -> tuple[Decimal, Decimal]:
    bill = ca.procurify.get_bill(ca.procurify_bill(number, DOMAIN)["uuid"])
    return Decimal(str(bill.total_cost_with_tax)), Decimal(str(bill.tax_amount))


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _confirm_suggestions(org, model) -> list[str]:
    """What a person does on the page: confirm each suggestion."""
    confirmed = []
    for mapping in model.objects.filter(organisation=org, qbo_id="").exclude(suggested_qbo_id=""):
        dimension_services.save_mapping(
            org, {TaxMapping: "tax", ClassMapping: "class", LocationMapping: "location"}[model],
            mapping.public_id, mapping.suggested_qbo_id,
        )  # fmt: skip
        confirmed.append(mapping.suggested_qbo_name)
    return confirmed


def _map_every_tax(ca: Harness, org, rounds: int = 4) -> None:
    """Run, note the taxes the holds name, confirm the suggestions, until nothing new is named."""
    for _ in range(rounds):
        run = ca.run(org)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        dimension_services.note_held_taxes(org)
        if not _confirm_suggestions(org, TaxMapping):
            return


def test_the_company_is_read_as_canadian_with_line_tax_classes_and_locations(ca, org_a):
    run = ca.run(org_a)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    profile = BooksProfile.objects.get(organisation=org_a)
    assert (profile.qbo_country, profile.qbo_home_currency) == ("CA", "CAD")
    assert profile.qbo_line_tax and profile.qbo_track_locations
    assert profile.qbo_class_tracking == "line"
    reads = ca.sb.qbo.stats(ca.realm_id)["by_endpoint"]
    assert reads.get("read:query TaxCode") == 1 and reads.get("read:query Class") == 1


def test_a_missing_tax_mapping_holds_the_bill_naming_the_tax_and_saving_it_releases_it(ca, org_a):
    ca.run(org_a)
    held = _held(org_a)
    assert held["COS-55120"].reason_code == "tax_unmapped"
    assert held["COS-55120"].message.startswith("Tax GST 5% has no QuickBooks tax code yet")
    assert held["LI-2026-0088"].message.startswith("Tax HST ON 13% has no QuickBooks tax code yet")
    assert ca.bills() == []

    dimension_services.note_held_taxes(org_a)
    gst = TaxMapping.objects.get(organisation=org_a, key="gst|5")
    assert (gst.tax_name, gst.suggested_qbo_name) == ("GST", "GST")  # suggested, not mapped
    assert gst.qbo_id == ""
    released = dimension_services.save_mapping(org_a, "tax", gst.public_id, gst.suggested_qbo_id)
    assert released >= 2  # COS-55120, PF-4410, PF-4475 wait on GST 5%
    assert HeldRecord.objects.get(pk=held["PF-4475"].pk).state == HeldRecord.State.RELEASED


def test_tax_coded_bills_total_in_quickbooks_what_procurify_says_to_the_cent(ca, org_a):
    _map_every_tax(ca, org_a)
    run = ca.run(org_a)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error

    # Several rates on one bill, tax on top; HST on top; zero-rated; all to the cent.
    for number in ("COS-55120", "LI-2026-0088", "FVF-301", "PF-4475"):
        qbo = ca.bill_by_doc(number)
        total, tax = _procurify_total(ca, number)
        assert qbo["GlobalTaxCalculation"] == "TaxExcluded"
        assert _cents(qbo["TotalAmt"]) == total, number
        assert _cents(qbo["TxnTaxDetail"]["TotalTax"]) == tax, number
        assert all(line["AccountBasedExpenseLineDetail"].get("TaxCodeRef") for line in qbo["Line"])
        # Lines are written net of tax: QuickBooks adds it.
        assert sum(_cents(line["Amount"]) for line in qbo["Line"]) == total - tax
    cos = ca.bill_by_doc("COS-55120")
    rates = {line["TaxLineDetail"]["TaxPercent"] for line in cos["TxnTaxDetail"]["TaxLine"]}
    assert rates == {5.0, 7.0}  # GST on every line, PST BC on two

    # Prices that include HST: written as they are, QuickBooks finds the 130.00 inside.
    software = ca.bill_by_doc("NS-INV-7001")
    assert software["GlobalTaxCalculation"] == "TaxInclusive"
    assert _cents(software["TotalAmt"]) == Decimal("1130.00")
    assert _cents(software["TxnTaxDetail"]["TotalTax"]) == Decimal("130.00")

    held = _held(org_a)
    # Line-by-line GST (1.06 + 1.06) is a cent from QuickBooks' per-rate GST on 42.60 (2.13): held.
    assert held["PF-4410"].reason_code == "tax_total_mismatch"
    assert "44.73" in held["PF-4410"].message and "44.72" in held["PF-4410"].message
    # QuickBooks has no QST code: held, naming the tax, no suggestion to confirm.
    assert held["LO-9912"].reason_code == "tax_unmapped"
    assert held["LO-9912"].message.startswith("Tax QST 9.975% has no QuickBooks tax code yet")
    assert {b.get("DocNumber") for b in ca.bills()} == {
        "COS-55120", "LI-2026-0088", "FVF-301", "PF-4475", "NS-INV-7001",
    }  # fmt: skip


def test_a_code_mapped_to_the_wrong_rate_is_held_not_written(ca, org_a):
    ca.run(org_a)
    dimension_services.note_held_taxes(org_a)
    gst = TaxMapping.objects.get(organisation=org_a, key="gst|5")
    hst = next(c for c in gst.organisation.qbo_tax_codes.all() if c.name == "HST ON")
    dimension_services.save_mapping(org_a, "tax", gst.public_id, hst.qbo_id)  # a slip of the hand
    ca.run(org_a)
    held = _held(org_a)
    assert held["PF-4475"].reason_code == "tax_total_mismatch"
    assert "1130.00" in held["PF-4475"].message and "1050.00" in held["PF-4475"].message
    assert not [b for b in ca.bills() if b.get("DocNumber", "").startswith("PF-")]

    # Corrected: the mismatched bill is released and written, to the cent.
    dimension_services.save_mapping(org_a, "tax", gst.public_id, gst.suggested_qbo_id or _code(org_a, "GST"))
    assert HeldRecord.objects.get(pk=held["PF-4475"].pk).state == HeldRecord.State.RELEASED
    ca.run(org_a)
    assert _cents(ca.bill_by_doc("PF-4475")["TotalAmt"]) == Decimal("1050.00")


def _code(org, name: str) -> str:
    return org.qbo_tax_codes.get(name=name).qbo_id


def test_classes_on_lines_and_the_location_on_the_bill_reach_quickbooks(ca, org_a):
    ca.run(org_a)  # reads the departments and locations, holds every bill on its tax
    dimension_services.save_settings(org_a, "line", True)
    assert sorted(_confirm_suggestions(org_a, ClassMapping)) == [
        "Administration",
        "Operations",
        "Sales",
        "Warehouse",
    ]
    assert sorted(_confirm_suggestions(org_a, LocationMapping)) == ["Toronto", "Vancouver"]
    _map_every_tax(ca, org_a)

    classes = {c["Id"]: c["Name"] for c in ca.sb.qbo.objects(ca.realm_id, "Class")}
    locations = {d["Id"]: d["Name"] for d in ca.sb.qbo.objects(ca.realm_id, "Department")}
    racking = ca.bill_by_doc("LI-2026-0088")
    line_classes = [
        classes[ln["AccountBasedExpenseLineDetail"]["ClassRef"]["value"]] for ln in racking["Line"]
    ]
    assert line_classes == ["Warehouse", "Sales"]
    assert locations[racking["DepartmentRef"]["value"]] == "Toronto"
    office = ca.bill_by_doc("COS-55120")
    assert locations[office["DepartmentRef"]["value"]] == "Vancouver"
    assert [classes[ln["AccountBasedExpenseLineDetail"]["ClassRef"]["value"]] for ln in office["Line"]] == [
        "Administration", "Administration", "Operations",
    ]  # fmt: skip
    # Freight for both locations on one bill: QuickBooks takes one location per bill.
    held = _held(org_a)
    assert held["PF-4475"].reason_code == "one_location_per_bill"
    assert "'Toronto'" in held["PF-4475"].message and "'Vancouver'" in held["PF-4475"].message


def test_a_company_with_class_tracking_off_gets_no_class_and_a_notice(ca, org_a):
    ca.run(org_a)
    dimension_services.save_settings(org_a, "line", False)
    assert _confirm_suggestions(org_a, ClassMapping)
    ca.sb.qbo.set_preferences(ca.realm_id, class_tracking_per_line=False)
    _map_every_tax(ca, org_a)

    assert len(ca.bills()) == 5, "the bills are still written"
    assert not any(
        ln["AccountBasedExpenseLineDetail"].get("ClassRef") for b in ca.bills() for ln in b["Line"]
    )
    assert dimension_services.notices(org_a) == [
        "Class tracking is off in QuickBooks, so bills are sent without classes."
    ]
    with pytest.raises(ValueError, match="Class tracking is off"):
        dimension_services.save_settings(org_a, "bill", False)


def test_a_us_company_makes_no_extra_metered_read(harness, org_a):
    """The distributor (US, no classes or locations) reads no tax codes, classes or locations."""
    run = harness.run(org_a)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    reads = harness.sb.qbo.stats(harness.realm_id)["by_endpoint"]
    extra = [k for k in reads if any(e in k for e in ("TaxCode", "TaxRate", "Class", "Department"))]
    assert extra == []
    assert not BooksProfile.objects.get(organisation=org_a).qbo_line_tax
    assert all(
        "TaxCodeRef" not in ln["AccountBasedExpenseLineDetail"] for b in harness.bills() for ln in b["Line"]
    )


def test_tax_coded_bills_whose_links_were_lost_are_adopted_not_rewritten(ca, org_a):
    """A database restore loses the links: the bills are found by their marker and, since QuickBooks'
    TotalAmt (tax included) is what we predicted, left alone — no second bill, no needless update."""
    from connector.models import ExternalRecord, SyncCursor

    _map_every_tax(ca, org_a)
    written = {b["DocNumber"]: b["SyncToken"] for b in ca.bills()}
    ExternalRecord.objects.filter(organisation=org_a, object_type="bill").delete()
    SyncCursor.objects.filter(organisation=org_a).delete()
    run = ca.run(org_a)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert {b["DocNumber"]: b["SyncToken"] for b in ca.bills()} == written
