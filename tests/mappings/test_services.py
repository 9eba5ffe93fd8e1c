from __future__ import annotations

from typing import Any

import pytest

from connector.errors import RecordHeld
from connector.models import AuditEvent, HeldRecord
from connector.sync.holds import hold
from mappings.models import AccountMapping, QBOAccount, QBOVendor, Source, VendorMapping
from mappings.normalise import normalise_name
from mappings.services import (
    SuggestionGone,
    auto_match_accounts,
    auto_match_vendors,
    confirm_vendor_suggestion,
    dismiss_vendor_suggestion,
    save_vendor_mapping,
)


def _qbo(org, qbo_id: str, name: str, **kwargs: Any) -> QBOVendor:
    return QBOVendor.objects.create(
        organisation=org, qbo_id=qbo_id, display_name=name, normalised_name=normalise_name(name), **kwargs
    )


def _procurify(org, procurify_id: int, name: str, **kwargs: Any) -> VendorMapping:
    return VendorMapping.objects.create(
        organisation=org,
        procurify_vendor_id=procurify_id,
        procurify_name=name,
        normalised_name=normalise_name(name),
        **kwargs,
    )


def _held_bill(org, key: str, procurify_id: str = "b1") -> HeldRecord:
    exc = RecordHeld.because("vendor_unmapped", vendor="Acme")
    exc.waiting_on_type, exc.waiting_on_key = "vendor_mapping", key  # type: ignore[attr-defined]
    return hold(org, "bill", procurify_id, exc, label="Bill 1")


def _row(org, procurify_id: int) -> VendorMapping:
    return VendorMapping.objects.get(organisation=org, procurify_vendor_id=procurify_id)


def test_it_auto_matches_vendors_and_accounts_and_records_why(org_a):
    _qbo(org_a, "5", "ACME Supplies Limited")
    _procurify(org_a, 42, "Acme Supplies Ltd.")
    QBOAccount.objects.create(organisation=org_a, qbo_id="7", name="Office", acct_num="6100")
    AccountMapping.objects.create(organisation=org_a, procurify_account_code_id=8, code="6100")

    assert [m.procurify_vendor_id for m in auto_match_vendors(org_a)] == [42]
    assert len(auto_match_accounts(org_a)) == 1

    vendor = _row(org_a, 42)
    assert (vendor.qbo_vendor_id, vendor.source) == ("5", "auto_name") and "ACME" in vendor.reason
    assert AccountMapping.objects.get(organisation=org_a).source == "auto_number"


def test_it_only_suggests_look_alikes_with_another_legal_form(org_a):
    _qbo(org_a, "5", "Acme GmbH")
    for n, name in enumerate(["Acme AG", "Acme SA", "Acme Ltd", "Acme Co"], start=1):
        _procurify(org_a, n, name)

    result = auto_match_vendors(org_a)

    assert result.matched == [] and len(result.suggested) == 4
    for n, form in enumerate(["AG", "SA", "Ltd", "Co"], start=1):
        row = _row(org_a, n)
        assert (row.qbo_vendor_id, row.source) == ("", Source.NONE)
        assert (row.suggested_qbo_vendor_id, row.suggested_qbo_vendor_name) == ("5", "Acme GmbH")
        assert row.suggestion_reason == (
            f"different legal form: {form} vs GmbH — confirm it is the same company"
        )


def test_it_does_not_match_a_vendor_across_currencies(org_a):
    _qbo(org_a, "5", "Müller Präzisionsteile GmbH", currency="USD")
    _procurify(org_a, 1, "Muller Prazisionsteile GmbH", procurify_currency="EUR")

    assert len(auto_match_vendors(org_a)) == 0

    row = _row(org_a, 1)
    assert row.qbo_vendor_id == "" and row.suggested_qbo_vendor_id == "5"
    assert "currencies differ" in row.suggestion_reason


def test_it_maps_neither_of_two_identically_named_procurify_vendors(org_a):
    _qbo(org_a, "5", "Acme Ltd")
    _procurify(org_a, 1, "Acme Ltd")
    _procurify(org_a, 2, "Acme Ltd")

    assert len(auto_match_vendors(org_a)) == 0

    assert [(r.qbo_vendor_id, r.suggested_qbo_vendor_id) for r in VendorMapping.objects.all()] == [
        ("", "5"),
        ("", "5"),
    ]


def test_it_never_maps_a_second_vendor_onto_one_a_person_chose(org_a):
    _qbo(org_a, "5", "Acme Ltd")
    _procurify(org_a, 1, "Bolt Co")
    _procurify(org_a, 2, "Acme Ltd")
    save_vendor_mapping(org_a, 1, "5")

    auto_match_vendors(org_a)

    assert (_row(org_a, 1).qbo_vendor_id, _row(org_a, 1).source) == ("5", Source.MANUAL)
    acme = _row(org_a, 2)
    assert acme.qbo_vendor_id == "" and acme.suggested_qbo_vendor_id == "5"
    assert "already mapped to Procurify vendor 'Bolt Co'" in acme.suggestion_reason


def test_it_never_overwrites_a_manual_choice_when_auto_matching(org_a):
    _qbo(org_a, "5", "Acme")
    _qbo(org_a, "6", "Acme West")
    _procurify(org_a, 42, "Acme")
    save_vendor_mapping(org_a, 42, "6")

    auto_match_vendors(org_a)

    vendor = _row(org_a, 42)
    assert (vendor.qbo_vendor_id, vendor.source) == ("6", "manual")
    assert vendor.suggested_qbo_vendor_id == ""


def test_it_demotes_an_automatic_mapping_made_by_stripping_the_legal_form(org_a):
    _qbo(org_a, "5", "Acme GmbH")
    _procurify(
        org_a, 1, "Acme AG", qbo_vendor_id="5", qbo_vendor_name="Acme GmbH", source=Source.AUTO_NAME,
        reason="Name 'Acme AG' matches QuickBooks vendor 'Acme GmbH'.",
    )  # fmt: skip
    _procurify(org_a, 2, "Acme GmbH", qbo_vendor_id="5", qbo_vendor_name="Acme GmbH", source=Source.MANUAL)

    result = auto_match_vendors(org_a)

    assert [(d.mapping.procurify_vendor_id, d.qbo_vendor_name) for d in result.demoted] == [(1, "Acme GmbH")]
    assert "withdrawn" in result.demoted[0].message and "AG vs GmbH" in result.demoted[0].message
    row = _row(org_a, 1)
    assert (row.qbo_vendor_id, row.source, row.reason) == ("", Source.NONE, "")
    assert row.suggested_qbo_vendor_id == "5" and "AG vs GmbH" in row.suggestion_reason
    assert _row(org_a, 2).qbo_vendor_id == "5"  # the person's choice stands
    assert auto_match_vendors(org_a).demoted == []  # and the next pass has nothing left to do


def test_it_keeps_an_automatic_mapping_that_is_the_same_legal_entity(org_a):
    _qbo(org_a, "5", "Pacific Packaging Co")
    _procurify(
        org_a, 1, "Pacific Packaging Co.", qbo_vendor_id="5", qbo_vendor_name="Pacific Packaging Co",
        source=Source.AUTO_NAME, reason="kept",
    )  # fmt: skip

    result = auto_match_vendors(org_a)

    assert (result.matched, result.demoted) == ([], [])
    assert (_row(org_a, 1).qbo_vendor_id, _row(org_a, 1).reason) == ("5", "kept")


def test_it_clears_a_suggestion_that_no_longer_applies(org_a):
    vendor = _qbo(org_a, "5", "Acme GmbH")
    _procurify(org_a, 1, "Acme AG")
    auto_match_vendors(org_a)
    vendor.display_name = "Zenith GmbH"
    vendor.save()

    auto_match_vendors(org_a)

    row = _row(org_a, 1)
    assert (row.suggested_qbo_vendor_id, row.suggestion_reason) == ("", "")


def test_it_releases_the_holds_waiting_on_a_mapping_when_it_is_saved(org_a, org_b):
    _qbo(org_a, "5", "Acme")
    _procurify(org_a, 42, "Acme")
    held = _held_bill(org_a, "42")
    other_org = _held_bill(org_b, "42")

    save_vendor_mapping(org_a, 42, "5")

    held.refresh_from_db()
    other_org.refresh_from_db()
    assert held.state == "released" and held.released_at is not None
    assert other_org.state == "held"  # the tenant wall: B's hold is not B's mapping


def test_it_confirms_a_suggestion_as_a_person_s_choice_and_releases_its_holds(org_a, owner):
    _qbo(org_a, "5", "Acme GmbH")
    _procurify(org_a, 1, "Acme AG")
    auto_match_vendors(org_a)
    held = _held_bill(org_a, "1")

    confirm_vendor_suggestion(_row(org_a, 1), owner.user, qbo_vendor_id="5")

    row = _row(org_a, 1)
    assert (row.qbo_vendor_id, row.source, row.decided_by) == ("5", Source.MANUAL, owner.user)
    assert row.decided_at is not None and row.suggested_qbo_vendor_id == ""
    held.refresh_from_db()
    assert held.state == "released"
    assert AuditEvent.objects.filter(organisation=org_a, procurify_id="1", kind="mapping").exists()
    auto_match_vendors(org_a)
    assert _row(org_a, 1).source == Source.MANUAL  # never undone by the next pass


def test_it_refuses_to_confirm_a_suggestion_that_changed(org_a, owner):
    _qbo(org_a, "5", "Acme GmbH")
    _procurify(org_a, 1, "Acme AG")
    auto_match_vendors(org_a)

    with pytest.raises(SuggestionGone):
        confirm_vendor_suggestion(_row(org_a, 1), owner.user, qbo_vendor_id="6")
    assert _row(org_a, 1).qbo_vendor_id == ""


def test_it_does_not_suggest_a_dismissed_vendor_again(org_a, owner):
    _qbo(org_a, "5", "Acme GmbH")
    _procurify(org_a, 1, "Acme AG")
    auto_match_vendors(org_a)
    held = _held_bill(org_a, "1")

    dismiss_vendor_suggestion(_row(org_a, 1), owner.user)
    result = auto_match_vendors(org_a)

    row = _row(org_a, 1)
    assert result.suggested == [] and row.qbo_vendor_id == "" and row.suggestion_reason == ""
    held.refresh_from_db()
    assert held.state == "held"
    with pytest.raises(SuggestionGone):
        confirm_vendor_suggestion(row, owner.user)
