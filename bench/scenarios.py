"""The engine's workloads: an initial sync, a poll with a fraction of bills changed, an idle poll."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from bench.metrics import Phase, measure
from bench.sandbox_proc import SandboxProcess
from bench.tenants import Tenant, clients_for, sync_once
from connector.models import AuditEvent, ExternalRecord, SyncRun
from connector.procurify.schemas import BillSummary
from connector.sync.records import BILL
from connector.sync.transform import SYNC_STATUSES


def initial_sync(sandbox: SandboxProcess, tenant: Tenant, name: str = "engine initial") -> Phase:
    with measure(name, sandbox, [tenant.realm_id], [tenant.domain]) as phase:
        run = sync_once(tenant)
    return finish(phase, run)


def poll(sandbox: SandboxProcess, tenant: Tenant, changed: float, name: str) -> Phase:
    """Change ``changed`` of the synced bills in Procurify (a new due date), then poll once."""
    edited = change_bills(sandbox, tenant, changed)
    with measure(name, sandbox, [tenant.realm_id], [tenant.domain]) as phase:
        run = sync_once(tenant, trigger=SyncRun.Trigger.SCHEDULE)  # as the beat's dispatcher queues it
    phase.extra["changed"] = edited
    return finish(phase, run)


def change_bills(sandbox: SandboxProcess, tenant: Tenant, fraction: float, *, naive: bool = False) -> int:
    """Edit ``fraction`` of the tenant's synced bills in Procurify (a due date no seeded bill has).

    The naive script keeps no ExternalRecord, so its candidates are the approved bills Procurify
    lists (what it wrote); picking from ExternalRecord edited nothing for it (the old "naive poll
    1% changed" row showed 0 bills).
    """
    ids = _procurify_synced_ids(tenant) if naive else _synced_ids(tenant)
    count = min(len(ids), max(1, round(len(ids) * fraction))) if fraction > 0 else 0
    due = (timezone.now() + timedelta(days=400)).date().isoformat()
    for uuid in random.Random(7).sample(ids, count):
        sandbox.edit_bill(tenant.domain, uuid, due_date=due)
    return count


def _synced_ids(tenant: Tenant) -> list[str]:
    return list(
        ExternalRecord.objects.filter(organisation=tenant.organisation, object_type=BILL)
        .exclude(qbo_id="")
        .order_by("pk")
        .values_list("procurify_id", flat=True)
    )


def _procurify_synced_ids(tenant: Tenant) -> list[str]:
    procurify, _ = clients_for(tenant)
    rows = procurify.iter_bills(datetime(2000, 1, 1, tzinfo=UTC), timezone.now())
    return [r.uuid for r in rows if isinstance(r, BillSummary) and r.status in SYNC_STATUSES]


def finish(phase: Phase, run: SyncRun) -> Phase:
    bills = (run.counts.get("by_type") or {}).get(BILL, {})
    phase.bills = int(bills.get("created", 0)) + int(bills.get("updated", 0))
    phase.extra.update(status=run.status, error=run.error, counts=bills)
    # Held records retried this run (released, mapping now resolves, or a QBO-side cause past its
    # 6 h cooldown, holds.QBO_SIDE_COOLDOWN); each may cost a QBO write that is not an unchanged record.
    phase.hold_retries = AuditEvent.objects.filter(
        run=run, kind="decision", message="Retrying a held record."
    ).count()
    return phase
