"""Money as finance users read it: "18,240.00 USD" — Decimal in, text out, never a float.

One format everywhere (pages, CSV-free text, e-mails): thousands grouped with commas, the
currency's minor units (two decimals; none for currencies without minor units), the ISO code
after the amount. It is the same for every organisation so a number copied from one page reads
the same on another; the CSV export writes plain ``18240.00`` so spreadsheets parse it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# ISO 4217 currencies without minor units that QuickBooks companies commonly use.
ZERO_DECIMAL = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF"})


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from a Decimal, int or decimal string (as the audit trail stores them); floats refused."""
    if value is None or value == "" or isinstance(value, float | bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def quantize(amount: Decimal, currency: str = "") -> Decimal:
    exponent = Decimal(1) if currency.upper() in ZERO_DECIMAL else Decimal("0.01")
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def format_money(amount: Any, currency: str = "") -> str:
    """'18,240.00 USD'; an unknown amount is an em dash (never a made-up zero)."""
    value = to_decimal(amount)
    if value is None:
        return "—"
    code = (currency or "").upper()
    text = f"{quantize(value, code):,}"
    return f"{text} {code}" if code else text


def totals_by_currency(pairs: Iterable[tuple[str, Any]]) -> list[tuple[str, Decimal]]:
    """Sum (currency, amount) pairs per currency, sorted by code; amounts never mixed across currencies."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in pairs:
        value = to_decimal(amount)
        if value is not None:
            sums[(currency or "").upper()] += value
    return sorted(sums.items())


def format_totals(pairs: Iterable[tuple[str, Any]]) -> str:
    """'18,240.00 USD + 950.00 CAD' (or '—' when nothing is known)."""
    totals = totals_by_currency(pairs)
    return " + ".join(format_money(amount, code) for code, amount in totals) or "—"
