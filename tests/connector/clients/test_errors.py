from __future__ import annotations

import string

import pytest

from connector.errors import (
    ConnectorError,
    FaultError,
    Permanent,
    QBOFault,
    ReauthRequired,
    RecordHeld,
    Retryable,
)
from connector.hold_reasons import REASONS, reason

ENGINE_CODES = {
    "vendor_unmapped",
    "vendor_inactive",
    "account_unmapped",
    "account_inactive",
    "qbo_validation",
    "period_closed",
    "vendor_currency_mismatch",
    "multicurrency_off",
    "no_payables_account",
    "exchange_rate_base_mismatch",
    "bill_total_missing",
    "duplicate_vendor_name",
    "bill_paid_in_qbo",
    "bill_voided_in_procurify",
    "malformed_record",
    "stale_sync_token_exhausted",
    "duplicate_docnumber",
}


def fault(code: str, message: str, detail: str = "") -> QBOFault:
    return QBOFault([FaultError(code=code, message=message, detail=detail)], status=400)


def test_it_arranges_errors_by_what_the_caller_should_do():
    assert issubclass(QBOFault, Permanent)
    for cls in (Retryable, Permanent, ReauthRequired, RecordHeld):
        assert issubclass(cls, ConnectorError)
    assert Retryable("x", retry_after=3).retry_after == 3


def test_it_has_a_sentence_for_every_code_the_engine_needs():
    assert REASONS.keys() >= ENGINE_CODES
    for spec in REASONS.values():
        template = spec.template
        # A sentence may open with a parameter ("{bill} is paid in Procurify..."): render it with a name.
        assert spec.render(**dict.fromkeys(spec.params, "Acme"))[0].isupper(), template
        assert template.rstrip().endswith((".", "}"))


def test_it_renders_the_vendor_unmapped_sentence():
    held = RecordHeld.because("vendor_unmapped", vendor="Acme Ltd")

    assert held.reason_code == "vendor_unmapped"
    assert str(held) == "Vendor 'Acme Ltd' is not mapped to a QuickBooks vendor. Map it on the Vendors tab."


def test_it_shows_a_question_mark_for_a_missing_parameter():
    assert reason("vendor_unmapped").render().startswith("Vendor '?'")


def test_it_uses_only_named_placeholders():
    for template in (r.template for r in REASONS.values()):
        names = [f[1] for f in string.Formatter().parse(template) if f[1] is not None]
        assert all(names), template


@pytest.mark.parametrize(
    ("qbo_fault", "helper"),
    [
        (fault("5010", "Stale Object Error"), "is_stale_object"),
        (fault("6240", "Duplicate Name Exists Error"), "is_duplicate_name"),
        (
            fault("610", "Object Not Found", "Something you're trying to use has been made inactive."),
            "is_inactive_reference",
        ),
        (fault("2500", "Invalid Reference Id", "made inactive"), "is_inactive_reference"),
        (fault("6200", "Account Period Closed"), "is_period_closed"),
        (fault("6140", "Duplicate Doc Num"), "is_duplicate_docnumber"),
        (fault("6210", "Duplicate Document Number Error"), "is_duplicate_docnumber"),
        (fault("3001", "message=ThrottleExceeded"), "is_throttled"),
        (fault("600", "Duplicate Request ID"), "is_duplicate_request"),
    ],
)
def test_it_recognises_each_fault_kind(qbo_fault, helper):
    helpers = [
        "is_stale_object",
        "is_duplicate_name",
        "is_inactive_reference",
        "is_period_closed",
        "is_duplicate_docnumber",
        "is_throttled",
        "is_duplicate_request",
    ]
    assert [h for h in helpers if getattr(qbo_fault, h)()] == [helper]


def test_it_reads_a_5010_about_closed_books_as_period_closed_not_stale():
    closed = fault("5010", "Account Period Closed", "The account period has closed.")

    assert closed.is_period_closed()
    assert not closed.is_stale_object()


def test_it_does_not_call_a_mistyped_reference_inactive():
    assert not fault("2500", "Invalid Reference Id", "Line.AccountRef").is_inactive_reference()


def test_it_puts_the_first_error_in_the_message():
    error = fault("6000", "A business validation error has occurred", "Business Validation Error: bad date")

    assert "6000" in str(error) and "bad date" in str(error)
    assert error.code == "6000"
    assert "without saying why" in str(QBOFault([], status=400))
