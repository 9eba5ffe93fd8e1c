"""The engine's workloads: an initial sync, a poll with a fraction of bills changed, an idle poll."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from connector.bench.metrics import Phase, measure
from connector.bench.sandbox_proc import SandboxProcess
from connector.bench.tenants import Tenant, sync_once
from connector.models import AuditEvent, ExternalRecord, SyncRun
from connector.sync.records import BILL


def initial_sync(sandbox: SandboxProcess, tenant: Tenant, name: str = "engine initial") -> Phase:
    with measure(name, sandbox, [tenant.realm_id], [tenant.domain]) as phase:
        run = sync_once(tenant)
    return finish(phase, run)


def poll(sandbox: SandboxProcess, tenant: Tenant, changed: float, name: str) -> Phase:
    """Change ``changed`` of the synced bills in Procurify (a new due date), then poll once."""
    edited = change_bills(sandbox, tenant, changed)
    with measure(name, sandbox, [tenant.realm_id], [tenant.domain]) as phase:
        run = sync_once(tenant)
    phase.extra["changed"] = edited
    return finish(phase, run)


def change_bills(sandbox: SandboxProcess, tenant: Tenant, fraction: float) -> int:
    ids = list(
        ExternalRecord.objects.filter(organisation=tenant.organisation, object_type=BILL)
        .exclude(qbo_id="")
        .order_by("pk")
        .values_list("procurify_id", flat=True)
    )
    count = min(len(ids), max(1, round(len(ids) * fraction))) if fraction > 0 else 0
    # A due date no seeded bill has, so every edit changes the QBO payload (and its hash).
    due = (timezone.now() + timedelta(days=400)).date().isoformat()
    for uuid in random.Random(7).sample(ids, count):
        sandbox.edit_bill(tenant.domain, uuid, due_date=due)
    return count


def finish(phase: Phase, run: SyncRun) -> Phase:
    bills = (run.counts.get("by_type") or {}).get(BILL, {})
    phase.bills = int(bills.get("created", 0)) + int(bills.get("updated", 0))
    phase.extra.update(status=run.status, error=run.error, counts=bills)
    # Held records whose cause lives in QBO are retried every run (holds.RETRY_EACH_RUN); each
    # retry is one refused create, which is not a write of an unchanged record.
    phase.hold_retries = AuditEvent.objects.filter(
        run=run, kind="decision", message="Retrying a held record."
    ).count()
    return phase
