from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.qbo import query as q


def test_it_escapes_an_apostrophe_with_a_backslash():
    assert q.quote("O'Brien") == "'O\\'Brien'"


def test_it_builds_a_vendor_lookup_including_inactive_records():
    assert q.vendor_by_display_name("O'Brien Supply") == (
        "SELECT * FROM Vendor WHERE DisplayName = 'O\\'Brien Supply' AND Active IN (true, false)"
    )


@pytest.mark.parametrize("value", ["ends with\\", "tab\there", "new\nline", "a\\'b"])
def test_it_refuses_values_the_parser_cannot_take(value):
    with pytest.raises(ValueError, match="QuickBooks queries cannot"):
        q.quote(value)


def test_it_builds_in_lists_of_mixed_literals():
    assert q.in_("Id", ["1", "2"]) == "Id IN ('1', '2')"
    assert q.in_("Active", [True, False]) == "Active IN (true, false)"


def test_it_refuses_an_empty_in_list():
    with pytest.raises(ValueError, match="empty"):
        q.in_("Id", [])


@pytest.mark.parametrize("name", ["Vendor; DROP", "Display Name", "", "1Vendor"])
def test_it_refuses_identifiers_that_are_not_names(name):
    with pytest.raises(ValueError):
        q.select(name)


def test_it_builds_paging_and_ordering_clauses():
    statement = q.select(
        "Bill",
        q.compare("MetaData.LastUpdatedTime", ">=", "2025-06-01T00:00:00-07:00"),
        order_by="MetaData.LastUpdatedTime",
        start_position=1001,
        max_results=1000,
    )

    assert statement == (
        "SELECT * FROM Bill WHERE MetaData.LastUpdatedTime >= '2025-06-01T00:00:00-07:00' "
        "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1001 MAXRESULTS 1000"
    )


def test_it_refuses_unsupported_operators():
    with pytest.raises(ValueError, match="operator"):
        q.compare("Id", "OR 1=1 --", "1")


def _unquote(literal: str) -> str:
    assert literal[0] == literal[-1] == "'"
    return literal[1:-1].replace("\\'", "'")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\\")))
def test_it_round_trips_any_backslash_free_text(value):
    literal = q.quote(value)

    assert _unquote(literal) == value
    # every apostrophe inside is escaped, so the literal cannot end early
    assert "'" not in literal[1:-1].replace("\\'", "")
