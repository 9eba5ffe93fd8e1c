"""Helpers for the fault-injection suite: an organisation connected to the sandbox through the real
connection flows, a transport that misbehaves on a seeded plan, and the invariants every scenario
must end in."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from io import StringIO

import httpx
from django.core.management import CommandError, call_command
from django.utils import timezone
from sandbox_wiring import DOMAIN

from connector.models import ExternalRecord, HeldRecord, SyncCursor, SyncRun
from connector.sync.transform import SYNC_STATUSES, VOID_STATUSES
from sandbox import Sandbox
from tenants.models import Organisation

MARKER = re.compile(r"procurify:bill:([0-9a-f]+)")


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
        kind = self.rng.choice(["edit", "edit_within_window", "approve", "edit_po"])
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
            elif bills:
                bill = self.rng.choice(bills)
                bill["note"] = f"edited {self.rng.randint(0, 10**6)}"
                # Their clock a little behind ours (skew within the cursor's overlap): the new stamp
                # may land inside the run's window, ahead of or behind the rows still to be read.
                skewed = now - timedelta(seconds=self.rng.uniform(0, 120))
                site.bump(bill, skewed if kind == "edit_within_window" else now)
            self.done[kind] += 1


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
    """Exactly one QBO bill per Procurify bill, nothing lost, every hold explained, cursors sane."""
    qbo_bills = sb.qbo.objects(realm_id, "Bill")
    markers = Counter(m.group(1) for b in qbo_bills if (m := MARKER.search(b.get("PrivateNote", ""))))
    duplicates = {uuid: n for uuid, n in markers.items() if n > 1}
    assert not duplicates, f"written twice: {duplicates}"

    synced = {
        r.procurify_id.replace("-", ""): r
        for r in ExternalRecord.objects.filter(organisation=organisation, object_type="bill")
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
