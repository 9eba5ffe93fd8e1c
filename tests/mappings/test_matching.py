from __future__ import annotations

import pytest

from mappings.normalise import Candidate, match_account, match_vendor, normalise_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme Supplies Ltd", "acme supplies"),
        ("ACME Supplies, Inc.", "acme supplies"),
        ("  Pacific   Packaging Co. ", "pacific packaging"),
        ("Café Québec Métallurgie Inc.", "cafe quebec metallurgie"),
        ("Müller Präzisionsteile GmbH", "muller prazisionsteile"),
        ("O'Brien Industrial Supply", "o brien industrial supply"),
        ("Summit Steel & Wire", "summit steel and wire"),
        ("Ltd", "ltd"),  # a name that is only a suffix keeps it
    ],
)
def test_it_normalises_case_accents_punctuation_and_suffixes(raw, expected):
    assert normalise_name(raw) == expected


def _vendor(qbo_id: str, name: str, active: bool = True) -> Candidate:
    return Candidate(qbo_id, name, normalise_name(name), active)


def test_it_matches_exactly_one_active_vendor_and_says_why():
    match = match_vendor("Acme Supplies Ltd", [_vendor("1", "ACME Supplies, Inc."), _vendor("2", "Other")])
    assert match is not None and match.qbo_id == "1"
    assert "ACME Supplies, Inc." in match.reason


def test_it_does_not_match_when_two_vendors_normalise_the_same():
    assert match_vendor("Acme Ltd", [_vendor("1", "Acme Inc"), _vendor("2", "ACME LLC")]) is None


def test_it_ignores_inactive_vendors_when_matching_by_name():
    assert match_vendor("Delta", [_vendor("1", "Delta", active=False)]) is None


def test_it_matches_an_account_code_to_exactly_one_active_account_number():
    accounts = [Candidate("7", "Office Supplies", "6100"), Candidate("8", "Old", "6100", active=False)]
    match = match_account("6100", accounts)
    assert match is not None and match.qbo_id == "7" and "6100" in match.reason
    assert match_account("6550", accounts) is None
    assert match_account("6100", [*accounts, Candidate("9", "Dup", "6100")]) is None
