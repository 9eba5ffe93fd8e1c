"""Helpers for the security tests: hostile values, bill builders, sandbox wiring and a secret scanner.

Import as ``from security_support import ...``: pytest's default (prepend) import mode puts this
directory on sys.path, as it does for tests/connections/connections_helpers.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

import httpx
from hypothesis import strategies as st

from tenants.models import Connection, Organisation, Provider

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
BASE = "http://sandbox.test"
REDIRECT_URI = "http://testserver/connections/qbo/callback/"

# ---- hostile values ---------------------------------------------------------------------------------

HOSTILE_TEXT: list[str] = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "O'Brien & Sons",
    "O\\'Brien",
    "trailing backslash\\",
    "'; DROP TABLE connector_externalrecord; --",
    "\u202eevil\u202c RTL override",
    "\u05e9\u05dc\u05d5\u05dd Hebrew \u0645\u0631\u062d\u0628\u0627",
    "Emoji \U0001f469\u200d\U0001f469\u200d\U0001f467 Ltd",
    "zero\u200bwidth\u200djoiner\ufeff",
    "nul\x00byte",
    "lone \ud800 surrogate",
    "tab\tnew\nline\r",
    "colon: in: name",
    "{vendor} %s %(x)s {0}",
    "\u201ccurly\u201d \u2018quotes\u2019 \u2014 dash",
    "",
    "   ",
    "x" * 5000,
]

AMOUNTS: list[Any] = [
    "1e30",
    Decimal("1e30"),
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "sNaN",
    "-250.00",
    "0.005",
    "0.004",
    "123456789012345.678",
    "1234567890.123456789012",
    "99999999999999.99",
    "",
    "abc",
    "1,000.00",
    None,
    True,
    [],
    {},
    -0.0,
]

hostile_text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
hostile_amount = st.sampled_from(AMOUNTS)
hostile_value = st.one_of(
    hostile_text,
    hostile_amount,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
# Amounts in whole cents (the realistic case) or sub-cent, negative and large ones.
cents = st.integers(min_value=-50_000_00, max_value=50_000_00).map(lambda c: Decimal(c) / 100)
money = st.one_of(
    cents,
    st.decimals(
        min_value=Decimal("-1e14"),
        max_value=Decimal("1e14"),
        allow_nan=False,
        allow_infinity=False,
        places=3,
    ),
    st.sampled_from([Decimal("0.005"), Decimal("1e14"), Decimal("-0.01"), Decimal("0")]),
)

VENDOR_MAPPED, VENDOR_UNMAPPED, VENDOR_INACTIVE = 42, 43, 44
CODE_MAPPED, CODE_OTHER, CODE_UNMAPPED = 8, 9, 99


def allocation(index: int, amount: Any, code_id: int = CODE_MAPPED) -> dict[str, Any]:
    return {
        "id": 5000 + index,
        "amount": amount,
        "currency": {"id": 3, "name": "USD", "rate": "1.000000"},
        "budget": {
            "id": 12,
            "active": True,
            "account_code": {"id": code_id, "code": str(6000 + code_id), "active": True},
            "department": {"id": 4, "name": "Operations", "active": True},
        },
    }


def bill_detail(**overrides: Any) -> dict[str, Any]:
    """A valid BillRead payload (procurify.md §3 example) with ``overrides`` applied."""
    bill: dict[str, Any] = {
        "id": 613,
        "uuid": "1f99cf4a8c8d4d4abf5a4d3a2c1e7b88",
        "version": 4,
        "status": 2,
        "type": 0,
        "active": True,
        "invoice_number": "INV-10442",
        "invoice_date": "2024-05-02T00:00:00+00:00",
        "due_date": "2024-06-01T00:00:00+00:00",
        "submitted_date": "2024-05-02T17:10:03.120000+00:00",
        "last_modified_datetime": "2024-05-03T18:22:41.512000+00:00",
        "payment_terms": "Net 30",
        "note": "",
        "vendor": {"id": VENDOR_MAPPED, "name": "Acme Supplies Ltd", "active": True},
        "vendor_name": "Acme Supplies Ltd",
        "currency": {"id": 3, "name": "USD", "rate": "1.000000", "base": True, "active": True},
        "subtotal_cost": Decimal("1000.0"),
        "shipping_amount": Decimal("0.0"),
        "tax_amount": Decimal("130.0"),
        "total_cost": Decimal("1000.0"),
        "total_cost_with_tax": Decimal("1130.0"),
        "items": [
            {
                "id": 9001,
                "description": "Toner cartridge",
                "sku": "TN-450",
                "quantity": "10.00",
                "unit_cost": Decimal("100.0"),
                "total_cost": Decimal("1000.0"),
                "tax_amount": Decimal("130.0"),
                "tax_is_inclusive": False,
                "cost_allocations": [allocation(1, "1000.00")],
            }
        ],
        "costs": [],
        "added_purchase_orders": [],
    }
    bill.update(overrides)
    return bill


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path inside a JSON-like value (for 'replace / delete one field' mutations)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index)
            yield from paths(inner, (*prefix, index))


def mutate(value: Any, path: tuple[Any, ...], new: Any, *, delete: bool = False) -> Any:
    """A deep copy of ``value`` with the thing at ``path`` replaced (or deleted)."""
    copy = json.loads(json.dumps(value, default=str))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return copy


def to_json_bytes(body: Any) -> bytes:
    # Decimal as a JSON number (bill totals are numbers, §3); lone surrogates survive as \ud800 escapes.
    return json.dumps(body, default=_number).encode()


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    raise TypeError(type(value).__name__)


# ---- an httpx transport that rewrites chosen sandbox responses --------------------------------------


@dataclass
class MutatingTransport(httpx.BaseTransport):
    """Wraps the sandbox; ``rewrites[path_suffix](json_body) -> body`` changes one endpoint's answer.

    The sandbox renders valid payloads only, so hostile JSON is injected here, at the HTTP seam.
    """

    inner: httpx.BaseTransport
    rewrites: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    raw: dict[str, bytes] = field(default_factory=dict)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        path = request.url.path
        for suffix, body in self.raw.items():
            if path.endswith(suffix):
                return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
        for suffix, rewrite in self.rewrites.items():
            if path.endswith(suffix) and response.status_code == 200:
                response.read()
                body = rewrite(json.loads(response.content, parse_float=Decimal))
                return httpx.Response(
                    200, content=to_json_bytes(body), headers={"Content-Type": "application/json"}
                )
        return response


@dataclass
class Wired:
    sb: Any
    transport: MutatingTransport
    organisation: Organisation
    domain: str
    realm_id: str

    def qbo_bills(self) -> list[dict[str, Any]]:
        return list(self.sb.qbo.objects(self.realm_id, "Bill"))

    def bills_with_marker(self, uuid: str) -> list[dict[str, Any]]:
        marker = f"procurify:bill:{uuid}"
        return [b for b in self.qbo_bills() if marker in (b.get("PrivateNote") or "")]


@dataclass
class TwoTenants:
    sb: Any
    a: Wired
    b: Wired


# ---- connecting organisations to the sandbox through the production seams -------------------------


def point_settings_at(sb: Any, settings: Any) -> None:
    urls = sb.qbo_urls()
    settings.QBO_CLIENT_ID = sb.credentials["qbo"]["client_id"]
    settings.QBO_CLIENT_SECRET = sb.credentials["qbo"]["client_secret"]
    settings.QBO_REDIRECT_URI = REDIRECT_URI
    settings.QBO_AUTHORIZE_URL = urls["authorize_url"]
    settings.QBO_TOKEN_URL = urls["token_url"]
    settings.QBO_REVOKE_URL = urls["revoke_url"]
    settings.QBO_API_BASE = urls["api_base"]
    settings.PROCURIFY_TOKEN_URL = ""


def connect(sb: Any, organisation: Organisation, user: Any, domain: str, realm_id: str) -> None:
    """Both connections the way the app makes them: a Procurify row, then the QBO consent exchange.

    Must run inside ``connector.clients.use_transport`` pointed at ``sb``.
    """
    from connector.oauth import complete_qbo_authorization

    creds = sb.credentials["procurify"][domain]
    Connection.objects.create(
        organisation=organisation,
        provider=Provider.PROCURIFY,
        site_url=sb.procurify_site_url(domain),
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
    )
    redirect = sb.qbo.approve_for_tests(sb.credentials["qbo"]["client_id"], REDIRECT_URI, "s", realm_id)
    code = httpx.URL(redirect).params["code"]
    outcome = complete_qbo_authorization(organisation, user, code, realm_id)
    assert outcome.warning is None, outcome.warning


def run_sync(organisation: Organisation) -> Any:
    """Queue a run and execute the Celery task body in-process (the task is the entry point)."""
    from connector.models import SyncRun
    from connector.sync import runs
    from connector.tasks import sync_organisation

    queued = runs.enqueue_run(organisation, SyncRun.Trigger.MANUAL)
    assert queued is not None, "another run is still active"
    sync_organisation(queued.pk)
    return SyncRun.objects.get(pk=queued.pk)


# ---- secret scanning --------------------------------------------------------------------------------


def secret_forms(secret: str) -> set[str]:
    """The value plus the encodings a leak usually takes (base64 alone or inside Basic auth, URL)."""
    raw = secret.encode()
    forms = {secret, quote_plus(secret)}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        forms.update({text, text.rstrip("=")})
    return {f for f in forms if len(f) >= 8}


def basic_auth_forms(client_id: str, client_secret: str) -> set[str]:
    pair = f"{client_id}:{client_secret}".encode()
    return {base64.b64encode(pair).decode(), base64.urlsafe_b64encode(pair).decode()}


def find_leaks(haystacks: Iterable[tuple[str, str]], secrets: dict[str, set[str]]) -> list[str]:
    """``where: which secret`` for every secret form found in any (where, text) pair."""
    leaks = []
    for where, text in haystacks:
        for name, forms in secrets.items():
            if any(form in text for form in forms):
                leaks.append(f"{where}: {name}")
    return leaks
