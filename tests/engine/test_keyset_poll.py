"""The keyset poll (issue 11 item 1): a list that changes while it is paged never loses a row, and the
bills cursor never passes a bill that was not durably handled.

The first tests drive cursors.Keyset against an in-memory list that changes between page reads; the
others run the engine against the sandbox with small pages and Procurify edited between page reads."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connector.http import build_client
from connector.models import ExternalRecord, HeldRecord, SyncCursor, SyncRun
from connector.procurify.auth import MemoryTokenStore
from connector.procurify.client import ProcurifyClient
from connector.qbo.client import QBOClient
from connector.sync import batch, cursors
from connector.sync.cursors import Keyset, Mark
from connector.sync.transform import SYNC_STATUSES
from tests.engine.conftest import DOMAIN, Harness, no_sleep, qbo_token_provider

T0 = datetime(2026, 3, 1, tzinfo=UTC)


# ---- the algorithm, against a list that moves ------------------------------------------------------


@dataclass
class Row:
    id: int
    stamp: datetime
    version: int = 1


@dataclass
class Page:
    rows: list[Row]
    has_next: bool
    count: int | None


@dataclass
class MovingList:
    """A server-side list ordered by (stamp, id), inclusive range filter, page numbers; `between` runs
    after every page served, as a person editing records while we read."""

    rows: dict[int, Row]
    size: int
    between: list = field(default_factory=list)
    served: int = 0

    def fetch(self, low: datetime, high: datetime, number: int, by_id: bool) -> Page:
        wanted = [r for r in self.rows.values() if low <= r.stamp <= high]
        wanted.sort(key=(lambda r: r.id) if by_id else (lambda r: (r.stamp, r.id)))
        page = [Row(r.id, r.stamp, r.version) for r in wanted[(number - 1) * self.size : number * self.size]]
        self.served += 1
        for change in self.between:
            change(self)
        return Page(page, number * self.size < len(wanted), len(wanted))

    def edit(self, row_id: int, stamp: datetime) -> None:
        row = self.rows[row_id]
        row.stamp, row.version = max(stamp, row.stamp + timedelta(microseconds=1)), row.version + 1


def _keyset(source: MovingList, low: datetime, high: datetime) -> Keyset[datetime]:
    return Keyset(
        source.fetch,
        low=low,
        high=high,
        stamp=lambda r: r.stamp,
        identity=lambda r: (r.id, r.version),
        after=cursors.next_microsecond,
    )


def _drain(poll: Keyset[datetime]) -> tuple[list[Row], list[datetime]]:
    rows, marks = [], []
    for item in poll:
        if isinstance(item, Mark):
            marks.append(item.value)
        else:
            rows.append(item)
    return rows, marks


@pytest.mark.parametrize("seed", range(30))
def test_every_row_is_listed_at_its_final_version_while_others_move(seed: int) -> None:
    rng = random.Random(seed)
    rows = {i: Row(i, T0 + timedelta(minutes=rng.randint(0, 50))) for i in range(1, 80)}
    source = MovingList(rows, size=rng.choice([1, 2, 3, 7]))
    high = T0 + timedelta(hours=1)

    def someone_edits(s: MovingList) -> None:
        if rng.random() < 0.5:
            # Stamped by the source's clock: after every stamp so far, sometimes past the window.
            newest = max(r.stamp for r in s.rows.values())
            s.edit(rng.choice(list(s.rows)), newest + timedelta(seconds=rng.randint(0, 900)))

    source.between.append(someone_edits)
    listed, marks = _drain(_keyset(source, T0, high))

    versions = {(r.id, r.version) for r in listed}
    assert len(versions) == len(listed), "a version was listed twice"
    for row in rows.values():
        if row.stamp <= high:
            assert (row.id, row.version) in versions, f"row {row.id} v{row.version} was skipped"
    assert marks == sorted(marks) and marks[-1] <= high


def test_a_row_moved_onto_a_read_page_by_an_edit_is_not_skipped() -> None:
    # The bug of page-number polling: 1..6 in order, pages of 2. After page 1, row 1 is edited to the
    # end; with "page 2" next, row 3 would now sit on page 1 and never be listed.
    rows = {i: Row(i, T0 + timedelta(minutes=i)) for i in range(1, 7)}
    source = MovingList(rows, size=2)
    source.between.append(lambda s: s.served == 1 and s.edit(1, T0 + timedelta(minutes=30)))

    listed, _ = _drain(_keyset(source, T0, T0 + timedelta(hours=1)))

    assert [(r.id, r.version) for r in listed] == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (1, 2)]


def test_a_window_of_one_shared_stamp_ends_and_lists_each_row_once() -> None:
    rows = {i: Row(i, T0) for i in range(1, 251)}  # a bulk import: one stamp, many pages
    source = MovingList(rows, size=10)

    poll = _keyset(source, T0, T0 + timedelta(hours=1))
    listed, marks = _drain(poll)

    assert sorted(r.id for r in listed) == list(range(1, 251))
    assert T0 <= marks[-1] <= cursors.next_microsecond(T0) and poll.ceiling is None
    assert poll.requests < 60  # one pass by id, not a loop


def test_a_shared_stamp_drained_while_rows_leave_it_loses_nothing() -> None:
    rows = {i: Row(i, T0) for i in range(1, 41)}
    rows |= {i: Row(i, T0 + timedelta(minutes=5)) for i in range(41, 46)}
    source = MovingList(rows, size=4)
    gone: set[int] = set()

    def edit_a_read_row(s: MovingList) -> None:
        if 3 <= s.served <= 6:  # during the drain: a row of page 1 leaves the stamp for later
            row_id = min(r.id for r in s.rows.values() if r.stamp == T0 and r.id not in gone)
            gone.add(row_id)
            s.edit(row_id, T0 + timedelta(minutes=10))

    source.between.append(edit_a_read_row)
    listed, _ = _drain(_keyset(source, T0, T0 + timedelta(hours=1)))

    assert {r.id for r in listed} == set(rows)
    assert {r.id for r in listed if r.version == 2} == gone  # their new versions, read in the same poll


def test_a_stamp_that_never_holds_still_stops_the_marks_there() -> None:
    rows = {i: Row(i, T0) for i in range(1, 30)}
    rows[99] = Row(99, T0 + timedelta(minutes=20))
    source = MovingList(rows, size=3)
    fresh = iter(range(1000, 2000))

    def always_more(s: MovingList) -> None:  # a new row at the shared stamp after every read
        row_id = next(fresh)
        s.rows[row_id] = Row(row_id, T0)

    source.between.append(always_more)
    poll = _keyset(source, T0, T0 + timedelta(hours=1))
    poll.max_drain_passes = 2
    listed, marks = _drain(poll)

    assert poll.ceiling == T0
    assert max(marks) == T0  # the cursor may not pass rows that could have been skipped
    assert 99 in {r.id for r in listed}  # the rest of the window was still read


def test_it_refuses_a_list_that_ignores_the_ordering() -> None:
    rows = [Row(2, T0 + timedelta(minutes=5)), Row(1, T0)]
    poll = _keyset(MovingList({}, size=2), T0, T0 + timedelta(hours=1))
    poll.fetch = lambda *_: Page(rows, True, 2)

    with pytest.raises(cursors.Unsorted, match="order of modification"):
        _drain(poll)


# ---- the engine against the sandbox ------------------------------------------------------------------


class EditAfterListPage(httpx.BaseTransport):
    """After the n-th bills list page: approve a draft and edit a bill that was already listed."""

    def __init__(
        self, inner: httpx.BaseTransport, harness_ref: dict, after: int, later: bool = False
    ) -> None:
        self.inner, self.ref, self.after, self.pages = inner, harness_ref, after, 0
        self.later = later  # the edits are stamped after the run's start (outside its window)
        self.approved: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "GET" and request.url.path.endswith("/api/v3/ap/bills/"):
            self.pages += 1
            if self.pages == self.after:
                self.edit()
        return response

    def edit(self) -> None:
        sb = self.ref["sb"]
        if self.later:
            sb.clock.advance(minutes=1)
        bills = sb.procurify.bills(DOMAIN)
        draft = next(b for b in bills if b["status"] == 0)
        sb.procurify.edit_bill(DOMAIN, draft["uuid"], status="approved")
        self.approved.append(draft["uuid"].replace("-", ""))
        first = min((b for b in bills if b["status"] == 2), key=lambda b: b["last_modified_datetime"])
        sb.procurify.edit_bill(DOMAIN, first["uuid"], note="edited while the sync paged")


def _small_page_harness(harness: Harness, transport: httpx.BaseTransport, page_size: int) -> Harness:
    http = httpx.Client(transport=transport)
    creds = harness.sb.credentials["procurify"][DOMAIN]
    procurify = ProcurifyClient(
        harness.sb.procurify_site_url(DOMAIN),
        creds["client_id"],
        creds["client_secret"],
        MemoryTokenStore(),
        http=http,
        clock=harness.sb.clock.now,
        sleep=no_sleep,
        page_size=page_size,
    )
    return Harness(harness.sb, http, procurify, harness.qbo, harness.realm_id)


def _in_qbo_or_held(org, uuid: str) -> bool:
    written = ExternalRecord.objects.filter(organisation=org, procurify_id=uuid).exclude(qbo_id="").exists()
    return written or HeldRecord.objects.filter(organisation=org, procurify_id=uuid, state="held").exists()


@pytest.mark.parametrize("after", [1, 2, 5])
def test_a_bill_edited_between_two_page_reads_is_synced_in_the_same_run(harness, org_a, after) -> None:
    edits = EditAfterListPage(harness.sb.transport(), {"sb": harness.sb}, after=after)
    small = _small_page_harness(harness, edits, page_size=3)

    run = small.run(org_a, sleep=no_sleep)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # The sandbox clock is frozen at the run's start: the edits land inside this run's window.
    for bill in harness.sb.procurify.bills(DOMAIN):
        if bill["status"] in SYNC_STATUSES:
            uuid = bill["uuid"].replace("-", "")
            assert _in_qbo_or_held(org_a, uuid), f"{bill['invoice_number']} was skipped"
    assert all(_in_qbo_or_held(org_a, uuid) for uuid in edits.approved)


def test_a_bill_edited_after_the_window_is_synced_by_the_next_run(harness, org_a) -> None:
    edits = EditAfterListPage(harness.sb.transport(), {"sb": harness.sb}, after=2, later=True)
    small = _small_page_harness(harness, edits, page_size=4)

    first = small.run(org_a, sleep=no_sleep)
    assert not any(_in_qbo_or_held(org_a, uuid) for uuid in edits.approved)  # outside the first window
    second = small.run(org_a, sleep=no_sleep)

    assert first.status == second.status == SyncRun.Status.SUCCEEDED, (first.error, second.error)
    assert edits.approved and all(_in_qbo_or_held(org_a, uuid) for uuid in edits.approved)
    assert SyncCursor.objects.get(organisation=org_a, stream="bills").value <= harness.sb.clock.now()


class DieAtBatch(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, at: int) -> None:
        self.inner, self.at, self.batches = inner, at, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # Bill batches only: vendors and purchase orders are batched too, in the steps before.
        if request.method == "POST" and request.url.path.endswith("/batch") and b'"Bill"' in request.content:
            self.batches += 1
            if self.batches == self.at:
                raise KeyboardInterrupt("the worker dies")  # no `except Exception` catches it
        return self.inner.handle_request(request)


@pytest.mark.parametrize("at", [3, 5, 7])
def test_the_cursor_never_passes_an_unhandled_bill(harness, org_a, monkeypatch, at) -> None:
    monkeypatch.setattr(batch, "BATCH_SIZE", 3)  # small batches: pages become durable often
    monkeypatch.setattr(batch, "MIN_BATCH", 3)
    sb = harness.sb
    dying_http = build_client(transport=DieAtBatch(sb.transport(), at))
    qbo = QBOClient(
        sb.qbo_urls()["api_base"],
        harness.realm_id,
        qbo_token_provider(sb, dying_http, harness.realm_id),
        http=dying_http,
        sleep=no_sleep,
        clock=sb.clock.now,
    )
    small = _small_page_harness(harness, sb.transport(), page_size=4)
    dying = Harness(sb, dying_http, small.procurify, qbo, harness.realm_id)
    with pytest.raises(KeyboardInterrupt):
        dying.run(org_a, sleep=no_sleep)

    cursor = SyncCursor.objects.get(organisation=org_a, stream="bills").value
    assert cursor is not None, "pages were handled before the worker died: the cursor should have moved"
    for bill in sb.procurify.bills(DOMAIN):
        uuid = bill["uuid"].replace("-", "")
        if bill["status"] in SYNC_STATUSES and not _durable(org_a, uuid):
            assert cursor <= datetime.fromisoformat(bill["last_modified_datetime"]), f"passed {uuid}"

    SyncRun.objects.filter(organisation=org_a).update(status=SyncRun.Status.ABANDONED)
    run = small.run(org_a, sleep=no_sleep)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    for bill in sb.procurify.bills(DOMAIN):
        if bill["status"] in SYNC_STATUSES:
            assert _in_qbo_or_held(org_a, bill["uuid"].replace("-", ""))


def _durable(org, uuid: str) -> bool:
    synced = ExternalRecord.objects.filter(organisation=org, procurify_id=uuid, state="synced").exists()
    return synced or HeldRecord.objects.filter(organisation=org, procurify_id=uuid).exists()


def test_the_sandbox_orders_by_stamp_then_id_and_filters_inclusively(harness) -> None:
    site = harness.sb.procurify.site(DOMAIN)
    shared = T0 + timedelta(hours=3)
    ids = sorted(site.bills)[:4]
    for key in ids:
        site.bills[key]["last_modified"] = shared
    small = _small_page_harness(harness, harness.sb.transport(), page_size=3)

    page = small.procurify.bills_page(shared, shared)
    rest = small.procurify.bills_page(shared, shared, page=2)

    rows = page.rows + rest.rows
    assert [r.last_modified_datetime for r in rows] == [shared] * 4  # both bounds inclusive
    assert [r.id for r in rows] == sorted(r.id for r in rows)  # ties broken by id
    assert page.has_next and not rest.has_next and page.count == 4
    assert small.procurify.bills_page(shared, shared, page=9).rows == []  # a page that is gone
    window = small.procurify.bills_page(T0, T0 + timedelta(days=365))
    stamps = [(r.last_modified_datetime, r.id) for r in window.rows]
    assert stamps == sorted(stamps)
