"""A tiny, safe builder for QBO query statements (quickbooks-online.md §6, §12.4).

String literals are single-quoted with ``'`` escaped as ``\\'``. Values the parser cannot take
are refused with ValueError instead of being sent as a broken query (a 4000 QueryParserError
would otherwise surface far from the cause).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Literal = str | bool | int | Decimal | date | datetime


def quote(value: str) -> str:
    """``O'Brien`` → ``'O\\'Brien'``; refuses a trailing backslash, ``\\'`` and control characters."""
    if not isinstance(value, str):
        raise TypeError(f"quote() takes a str, got {type(value).__name__}")
    if value.endswith("\\"):
        raise ValueError(f"QuickBooks queries cannot end a value with a backslash: {value!r}")
    if "\\'" in value:
        # Our escape would turn \' into \\' which the parser reads as an escaped backslash
        # followed by the closing quote.
        raise ValueError(f"QuickBooks queries cannot take a backslash before an apostrophe: {value!r}")
    if _CONTROL.search(value):
        raise ValueError(f"QuickBooks queries cannot take control characters (tab, newline): {value!r}")
    return "'" + value.replace("'", "\\'") + "'"


def literal(value: Literal) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return quote(value.isoformat())
    return quote(value)


def identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a QuickBooks entity or property name: {name!r}")
    return name


def eq(field: str, value: Literal) -> str:
    return f"{identifier(field)} = {literal(value)}"


def compare(field: str, op: str, value: Literal) -> str:
    if op not in {"=", "<", ">", "<=", ">=", "LIKE"}:
        raise ValueError(f"QuickBooks queries do not support the operator {op!r}")
    return f"{identifier(field)} {op} {literal(value)}"


def in_(field: str, values: Iterable[Literal]) -> str:
    items = [literal(v) for v in values]
    if not items:
        raise ValueError(f"IN list for {field!r} is empty; QuickBooks would reject the query")
    return f"{identifier(field)} IN ({', '.join(items)})"


def active_any() -> str:
    # Name-list queries skip inactive records unless asked (§3 general rules).
    return "Active IN (true, false)"


def where(*conditions: str) -> str:
    """Join conditions with AND (QBO has no OR, §6)."""
    return " AND ".join(c for c in conditions if c)


def select(
    entity: str,
    *conditions: str,
    order_by: str | None = None,
    descending: bool = False,
    start_position: int | None = None,
    max_results: int | None = None,
) -> str:
    # Not SQL: every piece below went through identifier() or literal() (S608 false positive).
    statement = f"SELECT * FROM {identifier(entity)}"  # noqa: S608
    clause = where(*conditions)
    if clause:
        statement += f" WHERE {clause}"
    if order_by:
        statement += f" ORDERBY {identifier(order_by)}" + (" DESC" if descending else "")
    if start_position is not None:
        statement += f" STARTPOSITION {int(start_position)}"
    if max_results is not None:
        if not 1 <= max_results <= 1000:
            raise ValueError("MAXRESULTS must be between 1 and 1000")
        statement += f" MAXRESULTS {int(max_results)}"
    return statement


def vendor_by_display_name(name: str, *, include_inactive: bool = True) -> str:
    conditions = [eq("DisplayName", name)]
    if include_inactive:
        conditions.append(active_any())
    return select("Vendor", *conditions)
