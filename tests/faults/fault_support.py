"""Helpers for the fault-injection suite: an organisation connected to the sandbox through the real
connection flows, a transport that misbehaves on a seeded plan, and the invariants every scenario
must end in."""

from __future__ import annotations

import os
import random
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from io import StringIO
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from sandbox_wiring import DOMAIN

from connector.clients import procurify_client_for, qbo_client_for
from connector.models import ExternalRecord, HeldRecord, SyncCursor, SyncRun
from connector.sync.transform import SYNC_STATUSES, VOID_STATUSES
from sandbox import Sandbox
from tenants.models import Organisation

# Seeded scenario kinds scale with the suite: a tenth of FAULT_SCENARIOS per kind, at least two.
KIND_SCENARIOS = max(2, int(os.environ.get("FAULT_SCENARIOS", "20")) // 10)
KIND_SEEDS = pytest.mark.parametrize(
    "seed", range(KIND_SCENARIOS), ids=[f"seed_{n}" for n in range(KIND_SCENARIOS)]
)
BASE = "http://sandbox.test"


def no_sleep(_: float) -> None:
    return None


MARKER = re.compile(r"procurify:bill:([0-9a-f]+)")
BILL_LINKS = ("bill", "vendor_credit")  # a negative bill is written as a VendorCredit (issue 15)
COMMITTED = ("Bill", "VendorCredit")  # the creates after which CommitThenDie may kill the worker


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: no `except Exception` in the engine catches it, so no clean-up runs."""


@dataclass
class FaultPlan:
    """What goes wrong, and at which request. Built from a seed so every scenario can be replayed."""

    kill_at: int | None = None  # the n-th request of any kind
    kill_at_write: int | None = None  # the n-th QBO write: where a lost create would duplicate
    kill_after_send: bool = False  # the request reaches the sandbox (and commits) before the worker dies
    expire_tokens_at: int | None = None
    qbo_edit_at: int | None = None


@dataclass
class FaultyTransport(httpx.BaseTransport):
    inner: httpx.BaseTransport
    sb: Sandbox
    realm_id: str
    plan: FaultPlan = field(default_factory=FaultPlan)
    count: int = 0
    writes: int = 0
    killed: bool = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        is_write = request.method == "POST" and "/v3/company/" in request.url.path
        self.writes += is_write
        if self.count == self.plan.expire_tokens_at:
            self.sb.qbo.expire_tokens(self.realm_id)
            self.sb.procurify.expire_tokens(DOMAIN)
        if self.count == self.plan.qbo_edit_at:
            edit_a_bill_in_qbo(self.sb, self.realm_id)
        if self.count == self.plan.kill_at or (is_write and self.writes == self.plan.kill_at_write):
            self.killed = True
            if self.plan.kill_after_send:
                self.inner.handle_request(request)
            raise WorkerKilled(f"killed at request {self.count}: {request.method} {request.url.path}")
        return self.inner.handle_request(request)


@dataclass
class EditsBetweenPages(httpx.BaseTransport):
    """People at work in Procurify while a sync pages through its lists: after serving a page of the
    bills or PO list, now and then edit a random bill (new version, modified now or later within the
    window), approve a draft, or edit a PO. With page-number paging each such move shifts an unread
    row onto a page already read."""

    inner: httpx.BaseTransport
    sb: Sandbox
    rng: random.Random
    rate: float = 0.5
    done: Counter[str] = field(default_factory=Counter)
    # What people do, "flip_sign" included: a bill credited in full, a credit reissued as an invoice.
    kinds: tuple[str, ...] = ("edit", "edit_within_window", "approve", "edit_po", "flip_sign")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        path = request.url.path
        listing = path.endswith("/api/v3/ap/bills/") or "/purchase_orders/purchased/" in path
        served = request.method == "GET" and listing and response.status_code == 200
        if served and self.rng.random() < self.rate:
            self.mutate()
        return response

    def mutate(self) -> None:
        site = self.sb.procurify.site(DOMAIN)
        now = self.sb.clock.now()
        kind = self.rng.choice(list(self.kinds))
        with self.sb.procurify._lock:  # the fake's own lock: a read-ahead thread may be reading
            bills = sorted(site.bills.values(), key=lambda b: b["id"])
            drafts = [b for b in bills if b["status"] == 0]
            if kind == "approve" and drafts:
                bill = self.rng.choice(drafts)
                bill["status"] = 2
                site.bump(bill, now)
            elif kind == "edit_po" and site.pos:
                po = self.rng.choice(sorted(site.pos.values(), key=lambda p: p["id"]))
                site.bump(po, now)
            elif kind == "flip_sign" and bills:
                # A credit note reissued as an invoice, or an invoice credited in full (issue 15): the
                # QBO object of the old kind must go before the new one is written, never both alive.
                bill = self.rng.choice(bills)
                flip_sign(bill)
                site.bump(bill, now)
            elif bills:
                bill = self.rng.choice(bills)
                bill["note"] = f"edited {self.rng.randint(0, 10**6)}"
                # Their clock a little behind ours (skew within the cursor's overlap): the new stamp
                # may land inside the run's window, ahead of or behind the rows still to be read.
                skewed = now - timedelta(seconds=self.rng.uniform(0, 120))
                site.bump(bill, skewed if kind == "edit_within_window" else now)
            self.done[kind] += 1


def flip_sign(bill: dict[str, Any]) -> None:
    """Every amount of a stored sandbox bill with its sign turned round (its total flips sign)."""
    for item in bill["items"]:
        item["quantity"] = -item["quantity"]
        item["shipping"] = -item["shipping"]
        for alloc in item["allocs"]:
            alloc["amount"] = -alloc["amount"]
    bill["shipping"] = -bill["shipping"]
    for cost in bill["costs"]:
        cost["amount"] = -cost["amount"]


def ours_in_qbo(sb: Sandbox, realm_id: str) -> list[dict[str, Any]]:
    """Every Bill and VendorCredit in the company (a negative Procurify bill is a VendorCredit)."""
    return sb.qbo.objects(realm_id, "Bill") + sb.qbo.objects(realm_id, "VendorCredit")


def sync_once(organisation: Organisation) -> str:
    """One run through the management command the operators use; returns how it ended."""
    try:
        call_command("sync_organisation", organisation.slug, stdout=StringIO())
    except WorkerKilled:
        reap_killed_runs(timezone.now())
        return "killed"
    except CommandError:
        return "failed"
    return "succeeded"


def edit_a_bill_in_qbo(sb: Sandbox, realm_id: str) -> None:
    """Someone edits a synced bill's memo in QuickBooks: its SyncToken moves under us."""
    bills = [b for b in sb.qbo.objects(realm_id, "Bill") if MARKER.search(b.get("PrivateNote", ""))]
    if bills:
        bill = bills[0]
        sb.qbo.edit_as_user(realm_id, "bill", bill["Id"], DueDate=bill.get("DueDate") or bill["TxnDate"])


def reap_killed_runs(now) -> None:
    """What the reaper does once the heartbeat is stale; the wait itself is not worth spending here."""
    from connector.sync.runs import reap_abandoned

    reap_abandoned(now + timedelta(hours=1))


def assert_invariants(organisation: Organisation, sb: Sandbox, realm_id: str) -> dict[str, int]:
    """Exactly one QBO bill (or vendor credit, for a negative bill) per Procurify bill, never both,
    nothing lost, every hold explained, cursors sane."""
    qbo_bills = ours_in_qbo(sb, realm_id)
    markers = Counter(m.group(1) for b in qbo_bills if (m := MARKER.search(b.get("PrivateNote", ""))))
    duplicates = {uuid: n for uuid, n in markers.items() if n > 1}
    assert not duplicates, f"written twice: {duplicates}"

    synced = {
        r.procurify_id.replace("-", ""): r
        for r in ExternalRecord.objects.filter(organisation=organisation, object_type__in=BILL_LINKS)
    }
    for bill in qbo_bills:
        match = MARKER.search(bill.get("PrivateNote", ""))
        if match:
            record = synced.get(match.group(1))
            assert record is not None, f"QBO bill {bill['Id']} is not tracked by any ExternalRecord"
            assert record.qbo_id == bill["Id"], f"tracked id {record.qbo_id} != QBO id {bill['Id']}"

    held = {
        h.procurify_id.replace("-", ""): h
        for h in HeldRecord.objects.filter(organisation=organisation, object_type="bill").exclude(
            state=HeldRecord.State.RESOLVED
        )
    }
    for bill in sb.procurify.bills(DOMAIN):
        uuid = bill["uuid"].replace("-", "")
        if bill["status"] in SYNC_STATUSES or (bill["status"] in VOID_STATUSES and uuid in markers):
            in_qbo = uuid in markers and synced.get(uuid) and synced[uuid].qbo_id
            assert in_qbo or uuid in held, f"bill {bill['invoice_number']} was lost: neither in QBO nor held"

    for hold in HeldRecord.objects.filter(organisation=organisation):
        assert hold.reason_code and hold.message, f"hold without a reason: {hold.pk}"

    assert not SyncRun.objects.filter(
        organisation=organisation, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
    ).exists(), "a run was left active"
    last_start = (
        SyncRun.objects.filter(organisation=organisation, status=SyncRun.Status.SUCCEEDED)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    for cursor in SyncCursor.objects.filter(organisation=organisation):
        assert cursor.value is None or cursor.value <= last_start, (
            f"cursor {cursor.stream} passed the run start"
        )
    return {"qbo_bills": len(markers), "held": len(held)}


# ---- helpers for the working-week scenarios (issue 11 items 2 to 6) ------------------------------


@dataclass
class CommitThenDie:
    """The worker dies right after QuickBooks committed the n-th bill write (a single create of a
    Bill, or a whole /batch), before anything of the answer is stored: the technique of
    tests/engine/conftest.dies_after_qbo_commits_a_bill, applied to the clients the command builds."""

    at: int
    commits: int = 0
    fired: bool = False

    def after_commit(self) -> None:
        self.commits += 1
        if self.commits == self.at:
            self.fired = True
            raise WorkerKilled(f"killed after QuickBooks committed bill write {self.commits}")


@contextmanager
def dies_after_qbo_commits(at: int) -> Iterator[CommitThenDie]:
    from connector.qbo.client import QBOClient

    plan = CommitThenDie(at)
    create, batch = QBOClient.create, QBOClient.batch

    def create_then_die(self: QBOClient, entity: str, body: Any, **kwargs: Any) -> Any:
        result = create(self, entity, body, **kwargs)
        if entity in COMMITTED:
            plan.after_commit()
        return result

    def batch_then_die(self: QBOClient, items: Any, **kwargs: Any) -> Any:
        result = batch(self, items, **kwargs)
        plan.after_commit()
        return result

    QBOClient.create, QBOClient.batch = create_then_die, batch_then_die  # type: ignore[method-assign]
    try:
        yield plan
    finally:
        QBOClient.create, QBOClient.batch = create, batch  # type: ignore[method-assign]


def sync_manual(organisation: Organisation) -> str:
    """A person pressed "Sync now" (trigger MANUAL, so the removals sweep runs); returns how it ended."""
    from connector.sync import runs
    from connector.sync.engine import run_pipeline

    queued = runs.enqueue_run(organisation, SyncRun.Trigger.MANUAL)
    assert queued is not None, "another run is still active"
    try:
        run = run_pipeline(
            queued.pk, procurify=procurify_client_for(organisation), qbo=qbo_client_for(organisation)
        )
    except WorkerKilled:
        reap_killed_runs(timezone.now())
        return "killed"
    return "succeeded" if run.status == SyncRun.Status.SUCCEEDED else "failed"


def connect_qbo_realm(organisation: Organisation, user: object, sb: Sandbox, realm_index: int) -> str:
    """sandbox_wiring.connect_qbo for any of the sandbox's companies: consent approved in the sandbox,
    then the callback's own code path (complete_qbo_authorization). Returns the realm id."""
    from urllib.parse import parse_qs, urlsplit

    from django.conf import settings
    from sandbox_wiring import REDIRECT_URI

    from connector.oauth import complete_qbo_authorization

    realm_id = sb.realm_ids[realm_index]
    callback = sb.qbo.approve_for_tests(settings.QBO_CLIENT_ID, REDIRECT_URI, "state", realm_id)
    query = parse_qs(urlsplit(callback).query)
    complete_qbo_authorization(organisation, user, query["code"][0], query["realmId"][0])
    return realm_id


def switch_company(organisation: Organisation, user: object, sb: Sandbox, realm_index: int) -> str:
    """Disconnect QuickBooks and connect another company, as the Connections page does."""
    from connector.oauth import disconnect_qbo
    from tenants.models import Connection, Provider

    disconnect_qbo(Connection.objects.get(organisation=organisation, provider=Provider.QBO))
    return connect_qbo_realm(organisation, user, sb, realm_index)


def hand_enter_bills(sb: Sandbox, realm_id: str, specs: list[dict[str, Any]]) -> dict[str, str]:
    """Bills a bookkeeper typed into a company through the API (no marker): {Id: SyncToken}.
    A spec: vendor_id, doc_number, amount (defaults: the first vendor, HAND-<n>, 99.00)."""
    from tests.engine.conftest import build_harness

    harness = build_harness(sb, realm_index=sb.realm_ids.index(realm_id))
    try:
        vendors = [v["Id"] for v in sb.qbo.objects(realm_id, "Vendor") if v.get("Active", True)]
        account = next(a for a in sb.qbo.objects(realm_id, "Account") if a.get("AcctNum") == "6300")
        out: dict[str, str] = {}
        for n, spec in enumerate(specs):
            line = {
                "Amount": str(spec.get("amount", "99.00")),
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account["Id"]}},
            }
            body = {
                "VendorRef": {"value": spec.get("vendor_id", vendors[0])},
                "DocNumber": spec.get("doc_number", f"HAND-{n}"),
                "Line": [line],
            }
            bill = harness.qbo.create("Bill", body)
            out[str(bill.Id)] = str(bill.SyncToken)
        return out
    finally:
        harness.http.close()


def assert_removals_held(organisation: Organisation, sb: Sandbox, realm_id: str) -> dict[str, int]:
    """Every bill we wrote that Procurify no longer lists as approved (deleted, denied, withdrawn, sent
    back) is still in QuickBooks and held with the removal reason that explains it, unless a person
    already decided; the removal holds are the only "explained" reasons for such bills."""
    from connector.sync.sweep import KEPT

    statuses = {b["uuid"].replace("-", ""): b["status"] for b in sb.procurify.bills(DOMAIN)}
    qbo_ids = {b["Id"] for b in ours_in_qbo(sb, realm_id)}
    holds = {
        h.procurify_id.replace("-", ""): h
        for h in HeldRecord.objects.filter(organisation=organisation, object_type="bill")
    }
    found: Counter[str] = Counter()
    written = ExternalRecord.objects.filter(organisation=organisation, object_type__in=BILL_LINKS).exclude(
        qbo_id=""
    )
    for record in written:
        uuid = record.procurify_id.replace("-", "")
        status = statuses.get(uuid)
        if status is None:
            expected = "bill_removed_in_procurify"
        elif status in VOID_STATUSES:
            expected = "bill_voided_in_procurify"
        elif status not in SYNC_STATUSES:
            expected = "bill_unapproved_after_sync"
        else:
            continue
        assert record.qbo_id in qbo_ids, f"QBO bill {record.qbo_id} ({record.label}) was deleted"
        hold = holds.get(uuid)
        if (record.extra or {}).get(KEPT) or (hold and hold.state == HeldRecord.State.RESOLVED):
            continue  # a person decided
        assert hold is not None, f"{record.label} left Procurify (status {status}) but is not held"
        assert hold.reason_code == expected, f"{record.label}: held as {hold.reason_code}, not {expected}"
        found[expected] += 1
    return dict(found)
