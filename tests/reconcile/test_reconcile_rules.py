"""The reconciliation's rules on plain values (connector/reconcile.py): which kind explains a document,
rows that add up to the cent, currencies never mixed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.reconcile import (
    CHANGED_IN_QBO,
    DELETED_IN_QBO,
    HELD,
    MATCHED,
    NOT_APPROVED,
    NOT_SYNCED,
    Hold,
    InQBO,
    ProcurifyBill,
    Written,
    reconcile,
)

D = Decimal


def _bill(pid: str, total: str | None, *, vendor: str = "Acme", currency: str = "USD", approved: bool = True):
    return ProcurifyBill(
        pid, vendor, f"INV-{pid}", date(2026, 2, 14), currency, D(total) if total else None, approved
    )


def test_each_document_gets_the_kind_that_explains_it() -> None:
    bills = [
        _bill("ok", "100.00"),
        _bill("held", "20.00"),
        _bill("new", "30.00"),
        _bill("edited", "44.00"),  # changed in Procurify after it was written
        _bill("qbo-edit", "50.00"),
        _bill("gone", "60.00"),
        _bill("withdrawn", "70.00", approved=False),
        _bill("draft", "80.00", approved=False),  # neither approved nor written: not in the books
    ]
    written = {
        p: Written(p, f"Q{p}", D(t), "USD")
        for p, t in [
            ("ok", "100.00"),
            ("edited", "40.00"),
            ("qbo-edit", "50.00"),
            ("gone", "60.00"),
            ("withdrawn", "70.00"),
        ]
    }
    in_qbo = {
        f"Q{p}": InQBO(f"Q{p}", D(t), D(t), "USD", p)
        for p, t in [("ok", "100.00"), ("edited", "40.00"), ("qbo-edit", "55.55"), ("withdrawn", "70.00")]
    }
    holds = {"held": Hold("account_unmapped", "Account code '6550' is not mapped.")}

    result = reconcile(bills, written, in_qbo, holds)

    kinds = {d.procurify_id: d.kind for d in result.documents}
    assert kinds == {
        "ok": MATCHED,
        "held": HELD,
        "new": NOT_SYNCED,
        "edited": NOT_SYNCED,
        "qbo-edit": CHANGED_IN_QBO,
        "gone": DELETED_IN_QBO,
        "withdrawn": NOT_APPROVED,
    }
    (row,) = result.rows
    assert (row.approved, row.written, row.in_qbo) == (D("304.00"), D("320.00"), D("265.55"))
    assert row.difference == D("38.45") == sum((d.difference for d in row.documents), D(0))
    assert {d.procurify_id for d in result.not_in_qbo} == {"held", "new", "gone"}
    assert sum((d.approved for d in result.not_in_qbo), D(0)) == D("110.00")


def test_currencies_and_months_are_separate_rows_and_totals() -> None:
    bills = [
        _bill("a", "10.10", currency="USD"),
        _bill("b", "20.20", currency="EUR"),
        ProcurifyBill("c", "Acme", "INV-c", date(2026, 3, 1), "USD", D("5.05"), True),
    ]
    result = reconcile(bills, {}, {}, {})
    assert [(r.month, r.currency, r.approved) for r in result.rows] == [
        ("2026-02", "EUR", D("20.20")),
        ("2026-02", "USD", D("10.10")),
        ("2026-03", "USD", D("5.05")),
    ]
    assert [(t.currency, t.approved, t.difference) for t in result.totals] == [
        ("EUR", D("20.20"), D("20.20")),
        ("USD", D("15.15"), D("15.15")),
    ]


def test_a_bill_without_a_total_counts_nothing_and_is_still_listed() -> None:
    result = reconcile([_bill("nototal", None)], {}, {}, {"nototal": Hold("bill_total_missing", "No total.")})
    (doc,) = result.documents
    assert (doc.kind, doc.approved, doc.reason) == (HELD, D("0.00"), "No total.")


def test_a_csv_text_cell_never_starts_a_formula() -> None:
    from connector.reconcile_views import text_cell

    assert text_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert [text_cell(v) for v in ("+1", "-2", "@SUM(A1)", "Acme")] == ["'+1", "'-2", "'@SUM(A1)", "Acme"]
