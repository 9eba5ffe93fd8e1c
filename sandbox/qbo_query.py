"""The subset of QBO's query language a sync needs (reference §6), parsed strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from . import qbo_errors as err
from .qbo_errors import PACIFIC
from .qbo_store import NAME_LIST

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100
_COMMON = {"Id", "MetaData.CreateTime", "MetaData.LastUpdatedTime", "SyncToken"}
_PEOPLE = {"DisplayName", "GivenName", "FamilyName", "CompanyName", "PrintOnCheckName", "Active", "Balance"}
FILTERABLE: dict[str, set[str]] = {
    "Vendor": _COMMON | _PEOPLE | {"AcctNum"},
    "Customer": _COMMON | _PEOPLE,
    "Employee": _COMMON | _PEOPLE,
    "Account": _COMMON
    | {"Name", "AcctNum", "AccountType", "AccountSubType", "Classification", "Active", "FullyQualifiedName"},
    "Term": _COMMON | {"Name", "Active", "DueDays"},
    "Bill": _COMMON
    | {"DocNumber", "TxnDate", "DueDate", "VendorRef", "PrivateNote", "TotalAmt", "Balance", "APAccountRef"},
    "PurchaseOrder": _COMMON | {"DocNumber", "TxnDate", "VendorRef", "POStatus", "PrivateNote", "TotalAmt"},
    "BillPayment": _COMMON | {"DocNumber", "TxnDate", "VendorRef", "TotalAmt"},
    "Class": _COMMON | {"Name", "Active", "FullyQualifiedName"},
    "Department": _COMMON | {"Name", "Active", "FullyQualifiedName"},
    "TaxCode": _COMMON | {"Name", "Active", "Taxable"},
    "TaxRate": _COMMON | {"Name", "Active", "RateValue"},
    # The objects a file is linked to (QBO §14): `AttachableRef` is a list; a condition matches any entry.
    "Attachable": _COMMON | {"AttachableRef.EntityRef.Type", "AttachableRef.EntityRef.value"},
    "VendorCredit": _COMMON
    | {"DocNumber", "TxnDate", "VendorRef", "PrivateNote", "TotalAmt", "Balance", "APAccountRef"},
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:\\.|[^'\\])*')
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|=|<|>)
    | (?P<punct>[(),*])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_LEXICAL_TRAPS = set("\u2018\u2019\u201c\u201d\u2013\u2014")
_KEYWORDS = {"SELECT", "COUNT", "FROM", "WHERE", "AND", "OR", "IN", "LIKE", "ORDERBY", "ORDER", "BY"}


@dataclass
class Condition:
    field: str
    op: str  # =, <, >, <=, >=, IN, LIKE
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    where: list[Condition] = field(default_factory=list)
    order_by: str = "Id"
    descending: bool = False
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos, text = 0, text.rstrip().rstrip(";")
    # Curly quotes and dashes have been reported to fail QBO's lexer even inside literals (§6).
    bad = next((i for i, c in enumerate(text) if c in _LEXICAL_TRAPS), None)
    if bad is not None:
        raise err.query_parse(f'Lexical error at column {bad + 1}. Encountered: "{text[bad]}"')
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise err.query_parse(f'Lexical error at column {pos + 1}. Encountered: "{text[pos : pos + 1]}"')
        pos = match.end()
        kind = match.lastgroup or ""
        value: Any = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "kw", value.upper()
        out.append((kind, value))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, Any]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", None)

    def take(self, kind: str, value: Any = None) -> Any:
        tok = self.peek()
        if tok[0] != kind or (value is not None and str(tok[1]).upper() != value):
            raise err.query_parse(f'Encountered "{tok[1]}" where {value or kind} was expected')
        self.i += 1
        return tok[1]

    def accept(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        if tok[0] == kind and (value is None or str(tok[1]).upper() == value):
            self.i += 1
            return True
        return False

    def parse(self) -> Query:
        self.take("kw", "SELECT")
        count = self.accept("kw", "COUNT")
        if count:
            self.take("punct", "(")
        self.take("punct", "*")
        if count:
            self.take("punct", ")")
        self.take("kw", "FROM")
        query = Query(entity=self.take("word"), count=count)
        if self.accept("kw", "WHERE"):
            query.where.append(self.condition())
            while self.accept("kw", "AND"):
                query.where.append(self.condition())
            if self.peek() == ("kw", "OR"):
                raise err.query_parse("OR is not supported")
        if self.accept("kw", "ORDERBY") or (self.accept("kw", "ORDER") and self.take("kw", "BY")):
            query.order_by = self.take("word")
            direction = self.peek()
            if direction[0] == "word" and str(direction[1]).upper() in ("ASC", "DESC"):
                query.descending = str(direction[1]).upper() == "DESC"
                self.i += 1
        for _ in range(2):
            if self.peek()[0] == "word" and str(self.peek()[1]).upper() == "STARTPOSITION":
                self.i += 1
                query.start = max(1, int(self.take("num")))
            elif self.peek()[0] == "word" and str(self.peek()[1]).upper() == "MAXRESULTS":
                self.i += 1
                query.max_results = min(MAX_RESULTS, max(1, int(self.take("num"))))
        if self.peek()[0] != "end":
            raise err.query_parse(f'Encountered "{self.peek()[1]}" at the end of the query')
        return query

    def condition(self) -> Condition:
        name = self.take("word")
        if self.accept("kw", "IN"):
            self.take("punct", "(")
            values = [self.literal()]
            while self.accept("punct", ","):
                values.append(self.literal())
            self.take("punct", ")")
            return Condition(name, "IN", values)
        if self.accept("kw", "LIKE"):
            return Condition(name, "LIKE", [self.take("str")])
        return Condition(name, self.take("op"), [self.literal()])

    def literal(self) -> Any:
        kind, value = self.peek()
        self.i += 1
        if kind in ("str", "num"):
            return value
        if kind == "word" and str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise err.query_parse(f'Encountered "{value}" where a value was expected')


def parse(text: str) -> Query:
    query = _Parser(text).parse()
    allowed = FILTERABLE.get(query.entity)
    if allowed is None:
        raise err.query_invalid(f"Invalid context declaration : {query.entity}")
    for cond in query.where:
        if cond.field not in allowed:
            raise err.query_invalid(f"property '{cond.field}' is not queryable")
    if query.order_by not in allowed:
        raise err.query_invalid(f"property '{query.order_by}' is not queryable")
    return query


def run(query: Query, objects: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Return (this page, total matches)."""
    rows = [o for o in objects if all(_matches(o, c) for c in query.where)]
    if query.entity in NAME_LIST and not any(c.field == "Active" for c in query.where):
        rows = [o for o in rows if o.get("Active", True) is not False]
    rows.sort(key=lambda o: _sort_key(_get(o, query.order_by), query.order_by), reverse=query.descending)
    first = query.start - 1
    return rows[first : first + query.max_results], len(rows)


def _get(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict) and "value" in value:  # a reference compares by its Id
        value = value["value"]
    return value


def _values(obj: dict[str, Any], path: str) -> list[Any]:
    """Every value at ``path``, stepping into lists (AttachableRef); a reference compares by its Id."""
    values: list[Any] = [obj]
    for part in path.split("."):
        found: list[Any] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            # QBO spells EntityRef's type "type" in bodies and "Type" in queries.
            found.extend(item.get(part, item.get(part.lower())) for item in items if isinstance(item, dict))
        values = found
    return [v["value"] if isinstance(v, dict) and "value" in v else v for v in values]


def _matches(obj: dict[str, Any], cond: Condition) -> bool:
    return any(_matches_value(actual, cond) for actual in _values(obj, cond.field))


def _matches_value(actual: Any, cond: Condition) -> bool:
    if actual is None:
        return False
    if cond.op == "LIKE":
        pattern = ".*".join(re.escape(p) for p in str(cond.values[0]).split("%"))
        return re.fullmatch(pattern, str(actual), re.IGNORECASE | re.DOTALL) is not None
    left = _normalise(actual, cond.field)
    rights = [_normalise(v, cond.field) for v in cond.values]
    try:
        if cond.op == "IN":
            return left in rights
        right = rights[0]
        return {
            "=": left == right,
            "<": left < right,
            ">": left > right,
            "<=": left <= right,
            ">=": left >= right,
        }[cond.op]
    except TypeError:
        return False


def _normalise(value: Any, name: str) -> Any:
    if isinstance(value, bool):
        return value
    if name.startswith("MetaData."):
        return _when(value)
    if isinstance(value, int | float) or (name in ("Id", "SyncToken") and str(value).isdigit()):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    if name in ("TotalAmt", "Balance", "DueDays"):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    # Name matching is case-insensitive in QBO's store (unverified; see README).
    return str(value).casefold()


def _when(value: Any) -> datetime:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise err.query_parse(f"Invalid date-time literal : {value}") from None
    return when if when.tzinfo else when.replace(tzinfo=PACIFIC)


def _sort_key(value: Any, name: str) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if name.startswith("MetaData."):
        return (1, _when(value).timestamp())
    if isinstance(value, bool):
        return (1, int(value))
    text = str(value)
    if text.isdigit():
        return (2, int(text))
    if isinstance(value, int | float):
        return (2, value)
    return (3, text.casefold())
