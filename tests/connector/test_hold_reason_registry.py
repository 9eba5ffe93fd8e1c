"""The hold-reason registry (connector/hold_reasons.py): every code has a title, a sentence its raisers
can fill, and a retry rule; unknown codes and missing parameters fail loudly."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from connector.errors import RecordHeld
from connector.hold_reasons import (
    QBO_SIDE,
    REASONS,
    REMOVALS,
    MissingParams,
    ReasonCode,
    Retry,
    WaitsOn,
    reason,
    title,
)
from connector.models import HeldRecord
from connector.sync import holds
from connector.sync.transform import Held

ROOT = Path(__file__).resolve().parents[2]
RAISERS = ("Held", "because")  # transform.Held(code, **params), RecordHeld.because(code, **params)


def _raises() -> list[tuple[str, str, set[str], bool]]:
    """(where, code, keyword names, has **kwargs) of every hold raised with a literal code."""
    found = []
    for package in ("connector", "mappings", "tenants"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                first = node.args[0]
                if name in RAISERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                    keywords = {k.arg for k in node.keywords if k.arg} - {"waiting_on"}
                    spread = any(k.arg is None for k in node.keywords)
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.append((where, first.value, keywords, spread))
    return found


RAISES = _raises()


def test_it_finds_the_raisers() -> None:
    assert len(RAISES) > 60  # a scan that finds nothing proves nothing
    assert {code for _, code, _, _ in RAISES} >= {"vendor_unmapped", "sync_failed", "attachment_refused"}


@pytest.mark.parametrize(("where", "code", "keywords", "spread"), RAISES, ids=[r[0] for r in RAISES])
def test_every_raiser_passes_a_registered_code_and_the_params_its_sentence_needs(
    where: str, code: str, keywords: set[str], spread: bool
) -> None:
    spec = reason(code)  # ValueError for a code nobody registered
    if not spread:  # a **params spread is checked when it runs (MissingParams below)
        assert spec.params <= keywords, f"{where}: {code} misses {sorted(spec.params - keywords)}"
    # Raised the way the code raises it (a parameter may be named like an argument: "code").
    held = Held(code, **dict.fromkeys(spec.params | keywords, "x"))
    assert held.reason_code == code and "{" not in held.message


def test_every_reason_has_a_spec_a_title_and_a_sentence() -> None:
    assert set(REASONS) == set(ReasonCode)
    for code, spec in REASONS.items():
        assert spec.code is code
        assert spec.title and spec.title != code.value and title(code.value) == spec.title
        assert spec.template.strip() and "{}" not in spec.template
        if spec.group:  # the held list's group sentence may use only what every hold row carries
            assert spec.fix
            names = {name for _, name, _, _ in string.Formatter().parse(spec.group) if name}
            assert names <= {"vendor", "account", "currency"}


def test_it_keeps_the_retry_rules() -> None:
    assert {
        "qbo_validation",
        "period_closed",
        "stale_sync_token_exhausted",
        "duplicate_docnumber",
        "sync_failed",
        "credit_sign_flip_locked",
    } == QBO_SIDE
    assert all(REASONS[code].retry == Retry.AFTER_COOLDOWN for code in QBO_SIDE)
    assert {"bill_removed_in_procurify", "bill_voided_in_procurify", "bill_unapproved_after_sync"} == REMOVALS
    assert all(REASONS[code].waits_on == WaitsOn.PERSON for code in REMOVALS)
    assert REASONS[ReasonCode.ATTACHMENT_UNREACHABLE].retry == Retry.EACH_RUN
    assert REASONS[ReasonCode.VENDOR_UNMAPPED].retry == Retry.ON_RELEASE


def test_it_refuses_a_hold_with_a_missing_parameter() -> None:
    with pytest.raises(MissingParams, match="vendor"):
        Held("vendor_unmapped")
    with pytest.raises(MissingParams, match="error"):
        RecordHeld.because("malformed_record", record="a bill")


def test_it_refuses_an_unknown_code_when_the_hold_is_raised() -> None:
    with pytest.raises(ValueError):
        Held("vendor_lost", vendor="Acme")
    with pytest.raises(ValueError):
        RecordHeld("vendor_lost", "Vendor lost.")


@pytest.mark.django_db
def test_it_refuses_an_unknown_code_or_kind_when_the_hold_is_stored(org_a) -> None:
    exc = Held("vendor_unmapped", vendor="Acme")
    exc.reason_code = "vendor_lost"  # type: ignore[assignment]  # as a caller bypassing the constructor would
    with pytest.raises(ValueError):
        holds.hold(org_a, "bill", "b1", exc)
    assert not HeldRecord.objects.filter(organisation=org_a).exists()

    with pytest.raises(ValueError):
        holds.hold(org_a, "invoice", "b1", Held("vendor_unmapped", vendor="Acme"))
    assert not HeldRecord.objects.filter(organisation=org_a).exists()

    held = holds.hold(org_a, "bill", "b1", Held("vendor_unmapped", vendor="Acme"))
    assert held.reason_code == "vendor_unmapped" and held.message.startswith("Vendor 'Acme'")


def test_its_model_choices_equal_the_registry() -> None:
    assert HeldRecord._meta.get_field("reason_code").choices == ReasonCode.choices
