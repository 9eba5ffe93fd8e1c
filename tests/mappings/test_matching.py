"""The pure vendor rules: a name's identity keeps its legal form; only the same legal entity, in a
compatible currency, one Procurify vendor per QuickBooks vendor, is matched automatically."""

from __future__ import annotations

import pytest

from mappings.normalise import (
    Candidate,
    Match,
    ProcurifyVendor,
    Suggestion,
    decide_vendor,
    match_account,
    normalise_name,
    plan_vendor_matches,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme Supplies Ltd", "acme supplies ltd"),
        ("Acme Supplies Limited", "acme supplies ltd"),
        ("ACME Supplies, Inc.", "acme supplies inc"),
        ("Acme Supplies Incorporated", "acme supplies inc"),
        ("  Pacific   Packaging Co. ", "pacific packaging co"),
        ("Pacific Packaging Company", "pacific packaging co"),
        ("Café Québec Métallurgie Inc.", "cafe quebec metallurgie inc"),
        ("Müller Präzisionsteile GmbH", "muller prazisionsteile gmbh"),
        ("Globex Corporation", "globex corp"),
        ("Initech L.L.C.", "initech llc"),
        ("Acme S. A.", "acme sa"),
        ("Acme GmbH & Co. KG", "acme gmbh co kg"),
        ("O'Brien Industrial Supply", "o brien industrial supply"),
        ("Summit Steel & Wire", "summit steel and wire"),
        ("Ltd", "ltd"),  # a name that is only a legal form keeps it
    ],
)
def test_it_normalises_case_accents_punctuation_and_the_spelling_of_the_legal_form(raw, expected):
    assert normalise_name(raw) == expected


def _vendor(qbo_id: str, name: str, active: bool = True, currency: str = "") -> Candidate:
    return Candidate(qbo_id, name, active=active, currency=currency)


@pytest.mark.parametrize(
    ("procurify", "qbo"),
    [
        ("Pacific Packaging Co.", "Pacific Packaging Co"),
        ("Café Québec Métallurgie Inc.", "Cafe Quebec Metallurgie Inc"),
        ("Acme Ltd", "ACME Limited"),
        ("Initech L.L.C.", "Initech LLC"),
        ("Globex Corp.", "Globex Corporation"),
    ],
)
def test_it_matches_the_same_legal_entity_automatically_and_says_why(procurify, qbo):
    found = decide_vendor(procurify, [_vendor("1", qbo), _vendor("2", "Other")])
    assert isinstance(found, Match) and found.qbo_id == "1"
    assert qbo in found.reason


@pytest.mark.parametrize(
    ("procurify", "reason"),
    [
        ("Acme AG", "different legal form: AG vs GmbH — confirm it is the same company"),
        ("Acme SA", "different legal form: SA vs GmbH"),
        ("Acme Ltd", "different legal form: Ltd vs GmbH"),
        ("Acme Co", "different legal form: Co vs GmbH"),
        ("Acme", "legal form dropped: Procurify has none, QuickBooks has GmbH"),
    ],
)
def test_it_only_suggests_a_vendor_whose_legal_form_differs(procurify, reason):
    found = decide_vendor(procurify, [_vendor("1", "Acme GmbH")])
    assert isinstance(found, Suggestion) and found.qbo_id == "1"
    assert reason in found.reason


def test_it_only_suggests_when_the_form_is_dropped_on_the_quickbooks_side():
    found = decide_vendor("Acme Ltd", [_vendor("1", "Acme")])
    assert isinstance(found, Suggestion) and "Procurify has Ltd, QuickBooks has none" in found.reason


def test_it_never_matches_across_currencies_and_says_they_differ():
    found = decide_vendor("Acme GmbH", [_vendor("1", "Acme GmbH", currency="USD")], currency="EUR")
    assert isinstance(found, Suggestion) and "currencies differ" in found.reason
    assert "EUR" in found.reason and "USD" in found.reason


def test_it_matches_when_a_currency_is_unknown_or_equal():
    assert isinstance(decide_vendor("Acme GmbH", [_vendor("1", "Acme GmbH", currency="EUR")]), Match)
    assert isinstance(decide_vendor("Acme GmbH", [_vendor("1", "Acme GmbH")], currency="EUR"), Match)
    assert isinstance(
        decide_vendor("Acme GmbH", [_vendor("1", "Acme GmbH", currency="eur")], currency="EUR"), Match
    )


def test_it_lets_the_currency_pick_between_two_vendors_of_the_same_name():
    candidates = [_vendor("1", "Acme Ltd", currency="USD"), _vendor("2", "ACME Limited", currency="EUR")]
    found = decide_vendor("Acme Ltd", candidates, currency="EUR")
    assert isinstance(found, Match) and found.qbo_id == "2"


def test_it_neither_matches_nor_suggests_when_two_vendors_are_alike():
    assert decide_vendor("Acme Ltd", [_vendor("1", "Acme Ltd"), _vendor("2", "ACME Limited")]) is None
    assert decide_vendor("Acme", [_vendor("1", "Acme GmbH"), _vendor("2", "Acme AG")]) is None


def test_it_maps_the_one_inactive_vendor_of_that_name_only_when_no_active_one_exists():
    found = decide_vendor("Delta", [_vendor("1", "Delta", active=False)])
    assert isinstance(found, Match) and "inactive" in found.reason
    assert decide_vendor("Delta Ltd", [_vendor("1", "Delta GmbH", active=False)]) is None


def test_it_does_not_suggest_an_unrelated_name():
    assert decide_vendor("Acme", [_vendor("1", "Acme West GmbH")]) is None


def _plan(rows, candidates):
    return plan_vendor_matches(rows, candidates)


def test_it_maps_neither_of_two_procurify_vendors_onto_one_quickbooks_vendor():
    plan = _plan(
        [ProcurifyVendor(1, "Acme Ltd"), ProcurifyVendor(2, "Acme Ltd")], [_vendor("9", "Acme Limited")]
    )
    for key in (1, 2):
        assert plan[key].match is None
        assert plan[key].suggestion is not None and plan[key].suggestion.qbo_id == "9"
        assert "Procurify vendor 'Acme Ltd' matches the same QuickBooks vendor" in plan[key].suggestion.reason


def test_it_does_not_map_onto_a_quickbooks_vendor_held_by_another_procurify_vendor():
    plan = _plan(
        [ProcurifyVendor(1, "Bolt", qbo_id="9"), ProcurifyVendor(2, "Acme Ltd")],
        [_vendor("9", "Acme Ltd")],
    )
    assert plan[1].keep
    assert plan[2].match is None and plan[2].suggestion is not None
    assert "already mapped to Procurify vendor 'Bolt'" in plan[2].suggestion.reason


def test_it_keeps_an_automatic_mapping_that_is_still_the_same_entity():
    plan = _plan([ProcurifyVendor(1, "Acme Ltd", qbo_id="9", automatic=True)], [_vendor("9", "ACME Limited")])
    assert plan[1].keep


def test_it_withdraws_an_automatic_mapping_made_by_dropping_the_legal_form():
    plan = _plan([ProcurifyVendor(1, "Acme AG", qbo_id="9", automatic=True)], [_vendor("9", "Acme GmbH")])
    assert not plan[1].keep and plan[1].match is None
    assert plan[1].suggestion == Suggestion(
        "9", "Acme GmbH", "different legal form: AG vs GmbH — confirm it is the same company"
    )


def test_it_withdraws_two_automatic_mappings_onto_one_vendor_and_a_third_does_not_take_it():
    rows = [
        ProcurifyVendor(1, "Acme Ltd", qbo_id="9", automatic=True),
        ProcurifyVendor(2, "Acme Limited", qbo_id="9", automatic=True),
        ProcurifyVendor(3, "ACME Ltd."),
    ]
    plan = _plan(rows, [_vendor("9", "Acme Ltd")])
    assert all(plan[k].match is None and not plan[k].keep for k in (1, 2, 3))
    assert all(plan[k].suggestion is not None and plan[k].suggestion.qbo_id == "9" for k in (1, 2, 3))


def test_it_withdraws_an_automatic_mapping_when_the_currencies_turn_out_to_differ():
    plan = _plan(
        [ProcurifyVendor(1, "Acme GmbH", currency="EUR", qbo_id="9", automatic=True)],
        [_vendor("9", "Acme GmbH", currency="USD")],
    )
    assert plan[1].suggestion is not None and "currencies differ" in plan[1].suggestion.reason


def test_it_matches_an_account_code_to_exactly_one_active_account_number():
    accounts = [Candidate("7", "Office Supplies", "6100"), Candidate("8", "Old", "6100", active=False)]
    match = match_account("6100", accounts)
    assert match is not None and match.qbo_id == "7" and "6100" in match.reason
    assert match_account("6550", accounts) is None
    assert match_account("6100", [*accounts, Candidate("9", "Dup", "6100")]) is None
