"""Both clients end to end against the in-process sandbox (the faithful fakes in sandbox/)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from connector.errors import QBOFault, ReauthRequired
from connector.http import build_client
from connector.procurify.auth import MemoryTokenStore
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import Bill, BillSummary, Vendor
from connector.qbo import query as q
from connector.qbo.auth import QBOOAuthConfig, TokenSet, authorization_url, exchange_code, refresh
from connector.qbo.client import QBOClient
from sandbox import Sandbox

BASE_URL = "http://sandbox.test"
REDIRECT_URI = "https://app.example/qbo/callback"


def no_sleep(seconds: float) -> None:
    pass


@pytest.fixture
def sb() -> Sandbox:
    sb = Sandbox.create(seed="distributor")
    sb.clock.freeze()
    return sb


@pytest.fixture
def http(sb):
    with build_client(transport=sb.transport(base_url=BASE_URL)) as client:
        yield client


@pytest.fixture
def token_store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
def procurify(sb, http, token_store):
    creds = sb.credentials["procurify"]["northwind"]
    return ProcurifyClient(
        sb.procurify_site_url("northwind", BASE_URL),
        creds["client_id"],
        creds["client_secret"],
        token_store,
        http=http,
        clock=sb.clock.now,
        sleep=no_sleep,
    )


@pytest.fixture
def qbo_config(sb) -> QBOOAuthConfig:
    creds = sb.credentials["qbo"]
    return QBOOAuthConfig(
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        redirect_uri=REDIRECT_URI,
        environment="sandbox",
        **sb.qbo_urls(BASE_URL),
    )


class RotatingProvider:
    """What the Django layer does under its row lock: refresh when forced, keep the newest tokens."""

    def __init__(self, http, config: QBOOAuthConfig, tokens: TokenSet, clock) -> None:
        self.http, self.config, self.tokens, self.clock = http, config, tokens, clock
        self.refreshes = 0

    def __call__(self, force_refresh: bool) -> str:
        if force_refresh or self.tokens.access_expires_at <= self.clock() + timedelta(minutes=5):
            self.tokens = refresh(self.http, self.config, self.tokens.refresh_token, clock=self.clock)
            self.refreshes += 1
        return self.tokens.access_token


@pytest.fixture
def realm_id(sb) -> str:
    return sb.realm_ids[0]


@pytest.fixture
def provider(sb, http, qbo_config, realm_id) -> RotatingProvider:
    url = authorization_url(qbo_config, state="s-123")
    assert urlsplit(url).path == "/qbo/connect/oauth2"
    callback = sb.qbo.approve_for_tests(qbo_config.client_id, REDIRECT_URI, "s-123", realm_id)
    params = parse_qs(urlsplit(callback).query)
    assert params["state"] == ["s-123"] and params["realmId"] == [realm_id]
    tokens = exchange_code(http, qbo_config, params["code"][0], clock=sb.clock.now)
    return RotatingProvider(http, qbo_config, tokens, sb.clock.now)


@pytest.fixture
def qbo(http, qbo_config, realm_id, provider) -> QBOClient:
    return QBOClient(qbo_config.api_base, realm_id, provider, http=http, sleep=no_sleep)


# ---- Procurify ------------------------------------------------------------------------------


def test_it_pings_procurify_with_a_fresh_token(procurify):
    result = procurify.ping()

    assert result.vendor_count and result.vendor_count > 0


def test_it_pages_vendors_by_following_next_links(sb, procurify, http):
    small = ProcurifyClient(
        procurify.site_url,
        sb.credentials["procurify"]["northwind"]["client_id"],
        sb.credentials["procurify"]["northwind"]["client_secret"],
        MemoryTokenStore(),
        http=http,
        clock=sb.clock.now,
        sleep=no_sleep,
        page_size=3,
    )

    paged = list(small.iter_vendors())
    whole = list(procurify.iter_vendors())

    assert len(paged) > 3
    assert [v.id for v in paged] == [v.id for v in whole]
    assert all(isinstance(v, Vendor) for v in paged)


def test_it_renews_the_procurify_token_after_a_day(sb, procurify, token_store):
    procurify.ping()
    first = token_store.load()

    sb.clock.advance(hours=24)
    procurify.ping()

    assert token_store.load().value != first.value
    assert token_store.saves == 2


def test_it_reads_bills_in_a_window_and_their_details(sb, procurify):
    now = sb.clock.now()

    rows = list(procurify.iter_bills(now - timedelta(days=365), now))

    summaries = [r for r in rows if isinstance(r, BillSummary)]
    assert summaries, rows[:3]
    times = [s.last_modified_datetime for s in summaries]
    assert times == sorted(times)
    bill = procurify.get_bill(summaries[0].uuid)
    assert isinstance(bill, Bill)
    assert bill.uuid.replace("-", "") == summaries[0].uuid.replace("-", "")
    allocations = [a for item in bill.items for a in item.cost_allocations]
    assert all(isinstance(a.amount, Decimal) for a in allocations)


def test_it_reads_account_codes_and_departments(procurify):
    assert any(code.code for code in procurify.iter_account_codes())
    assert any(dept.name for dept in procurify.iter_departments())


# ---- QuickBooks -----------------------------------------------------------------------------


def test_it_reads_company_info_after_connecting(qbo):
    assert qbo.company_info().CompanyName


def test_it_finds_a_vendor_with_an_apostrophe_by_display_name(qbo):
    response = qbo.query(q.vendor_by_display_name("O'Brien Industrial Supply"))

    assert [v["DisplayName"] for v in response["Vendor"]] == ["O'Brien Industrial Supply"]


def test_it_pages_query_all_over_every_account(qbo, sb, realm_id):
    accounts = list(qbo.query_all("Account", q.active_any(), page_size=4))

    assert len(accounts) == len(sb.qbo.objects(realm_id, "account"))


def _bill_body(doc_number: str, txn_date: date) -> dict:
    return {
        "VendorRef": {"value": "20"},
        "APAccountRef": {"value": "1"},
        "TxnDate": txn_date.isoformat(),  # after the seeded book-close date
        "DocNumber": doc_number,
        "Line": [
            {
                "Amount": Decimal("125.50"),
                "Description": "Office chairs",
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "9"}},
            }
        ],
    }


def test_it_creates_a_bill_then_sparse_updates_it_with_the_sync_token(qbo, sb):
    created = qbo.create("Bill", _bill_body("SBX-1", sb.clock.now().date()))

    assert created.SyncToken == "0" and created.TotalAmt == Decimal("125.50")
    updated = qbo.update("Bill", {"Id": created.Id, "SyncToken": created.SyncToken, "PrivateNote": "hi"})

    assert updated.SyncToken == "1"
    assert updated.PrivateNote == "hi"
    assert updated.DocNumber == "SBX-1"  # sparse: untouched fields kept


def test_it_replays_a_create_with_the_same_request_id_without_duplicating(qbo, sb, realm_id):
    first = qbo.create("Bill", _bill_body("SBX-2", sb.clock.now().date()), request_id="outbox-42")
    again = qbo.create("Bill", _bill_body("SBX-2", sb.clock.now().date()), request_id="outbox-42")

    assert again.Id == first.Id
    assert [b["DocNumber"] for b in sb.qbo.objects(realm_id, "bill")].count("SBX-2") == 1


def test_it_raises_a_stale_object_fault_after_a_user_edits_in_qbo(qbo, sb, realm_id):
    created = qbo.create("Bill", _bill_body("SBX-3", sb.clock.now().date()))
    sb.qbo.edit_as_user(realm_id, "bill", created.Id, PrivateNote="edited in the QBO UI")

    with pytest.raises(QBOFault) as info:
        qbo.update("Bill", {"Id": created.Id, "SyncToken": created.SyncToken, "PrivateNote": "ours"})

    assert info.value.is_stale_object()
    fresh = qbo.read("Bill", created.Id)
    assert qbo.update("Bill", {"Id": fresh.Id, "SyncToken": fresh.SyncToken, "PrivateNote": "ours"}).SyncToken


def test_it_reports_an_inactive_vendor_reference(qbo, sb):
    body = {
        **_bill_body("SBX-4", sb.clock.now().date()),
        "VendorRef": {"value": "26"},
    }  # Delta Freight: inactive

    with pytest.raises(QBOFault) as info:
        qbo.create("Bill", body)

    assert info.value.is_inactive_reference()


def test_it_refreshes_once_when_the_access_token_expires_and_keeps_the_rotated_token(qbo, sb, provider):
    qbo.company_info()
    before = provider.tokens
    sb.qbo.auth.expire_access()

    assert qbo.company_info().CompanyName
    assert provider.refreshes == 1
    assert provider.tokens.access_token != before.access_token


def test_it_raises_reauth_required_after_the_user_disconnects(qbo, sb, realm_id):
    sb.qbo.auth.revoke_realm(realm_id)

    with pytest.raises(ReauthRequired):
        qbo.company_info()


def test_it_survives_a_lost_write_response_without_a_duplicate_bill(qbo, sb, realm_id):
    sb.faults.lose_next()  # QBO commits the write, then the response never arrives

    created = qbo.create("Bill", _bill_body("SBX-5", sb.clock.now().date()))

    bills = [b for b in sb.qbo.objects(realm_id, "bill") if b.get("DocNumber") == "SBX-5"]
    assert [b["Id"] for b in bills] == [created.Id]


def test_it_retries_through_qbo_throttling_and_outages(qbo, sb):
    sb.faults.throttle_next(1, target="qbo")
    sb.faults.fail_next(1, status=503, target="qbo")

    assert qbo.company_info().CompanyName


def test_it_retries_through_procurify_outages(procurify, sb):
    sb.faults.fail_next(2, status=502, target="procurify")

    assert procurify.ping().vendor_count
