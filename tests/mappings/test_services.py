from __future__ import annotations

from connector.errors import RecordHeld
from connector.models import HeldRecord
from connector.sync.holds import hold
from mappings.models import AccountMapping, QBOAccount, QBOVendor, VendorMapping
from mappings.services import auto_match_accounts, auto_match_vendors, save_vendor_mapping


def _held_bill(org, key: str) -> HeldRecord:
    exc = RecordHeld.because("vendor_unmapped", vendor="Acme")
    exc.waiting_on_type, exc.waiting_on_key = "vendor_mapping", key  # type: ignore[attr-defined]
    return hold(org, "bill", "b1", exc, label="Bill 1")


def test_it_auto_matches_vendors_and_accounts_and_records_why(org_a):
    QBOVendor.objects.create(
        organisation=org_a, qbo_id="5", display_name="ACME Supplies, Inc.", normalised_name="acme supplies"
    )
    VendorMapping.objects.create(
        organisation=org_a,
        procurify_vendor_id=42,
        procurify_name="Acme Supplies Ltd",
        normalised_name="acme supplies",
    )
    QBOAccount.objects.create(organisation=org_a, qbo_id="7", name="Office", acct_num="6100")
    AccountMapping.objects.create(organisation=org_a, procurify_account_code_id=8, code="6100")

    assert len(auto_match_vendors(org_a)) == 1
    assert len(auto_match_accounts(org_a)) == 1

    vendor = VendorMapping.objects.get(organisation=org_a)
    assert (vendor.qbo_vendor_id, vendor.source) == ("5", "auto_name") and "ACME" in vendor.reason
    assert AccountMapping.objects.get(organisation=org_a).source == "auto_number"


def test_it_never_overwrites_a_manual_choice_when_auto_matching(org_a):
    QBOVendor.objects.create(organisation=org_a, qbo_id="5", display_name="Acme", normalised_name="acme")
    QBOVendor.objects.create(
        organisation=org_a, qbo_id="6", display_name="Acme West", normalised_name="acme west"
    )
    VendorMapping.objects.create(
        organisation=org_a, procurify_vendor_id=42, procurify_name="Acme", normalised_name="acme"
    )
    save_vendor_mapping(org_a, 42, "6")

    auto_match_vendors(org_a)

    vendor = VendorMapping.objects.get(organisation=org_a)
    assert (vendor.qbo_vendor_id, vendor.source) == ("6", "manual")


def test_it_releases_the_holds_waiting_on_a_mapping_when_it_is_saved(org_a, org_b):
    QBOVendor.objects.create(organisation=org_a, qbo_id="5", display_name="Acme", normalised_name="acme")
    VendorMapping.objects.create(
        organisation=org_a, procurify_vendor_id=42, procurify_name="Acme", normalised_name="acme"
    )
    held = _held_bill(org_a, "42")
    other_org = _held_bill(org_b, "42")

    save_vendor_mapping(org_a, 42, "5")

    held.refresh_from_db()
    other_org.refresh_from_db()
    assert held.state == "released" and held.released_at is not None
    assert other_org.state == "held"  # the tenant wall: B's hold is not B's mapping
