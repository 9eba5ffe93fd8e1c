"""Drift in QuickBooks: objects we wrote that someone changed, deleted or paid there.

Once a day (and on every "Sync now"), one change-data-capture call for Bill, PurchaseOrder and Vendor
since the last sweep (a metered read: docs/qbo-facts.md, "Drift") is compared with our links. Each
object whose SyncToken moved and whose written fields differ, each deleted one and each paid bill is
recorded as a `QBODrift` with a field diff. Nothing is written to QuickBooks here; `guard` keeps the
engine from overwriting what a person did there.

When the last sweep is older than CDC's 30-day look-back, or CDC's 1000-object cap is reached, the
sweep falls back to `LastUpdatedTime` queries and an `Id IN (…)` check of our objects for deletions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from connector.models import ExternalRecord, QBODrift, SyncCursor
from connector.qbo import query as q
from connector.qbo.schemas import Bill
from connector.sync.context import Context
from connector.sync.drift_diff import WRITTEN, qbo_changes
from connector.sync.drift_store import record_drift
from connector.sync.writers import is_locked
from tenants.models import Organisation

ENTITIES = ("Bill", "PurchaseOrder", "Vendor")
STREAM = "drift_sweep"  # a SyncCursor row: the start of the run whose sweep last asked QuickBooks
SWEEP_EVERY = timedelta(hours=24)
OVERLAP = timedelta(minutes=5)  # QuickBooks' stamps and our clock may disagree by a little
CDC_LOOK_BACK = timedelta(days=30)
CDC_MARGIN = timedelta(hours=1)  # stay well inside the look-back
CDC_MAX_OBJECTS = 1000
PAGE = 1000  # rows per query page (one metered read each)
ID_CHUNK = 200  # ids per `Id IN (…)` query


def due(ctx: Context) -> bool:
    if ctx.run is not None and ctx.run.trigger == ctx.run.Trigger.MANUAL:
        return True
    last = _last_sweep(ctx.organisation)
    return last is None or last <= ctx.clock() - SWEEP_EVERY


def _last_sweep(organisation: Organisation) -> datetime | None:
    return (
        SyncCursor.objects.filter(organisation=organisation, stream=STREAM)
        .values_list("value", flat=True)
        .first()
    )


class Reads:
    """Metered reads this sweep made (each CDC call and each query page is one)."""

    def __init__(self) -> None:
        self.count = 0


def sweep_drift(ctx: Context, *, force: bool = False) -> dict[str, int]:
    """Record drift for every object we wrote that changed in QuickBooks; returns counts and reads."""
    counts = {"changed": 0, "deleted": 0, "paid": 0, "metered_reads": 0}
    if not force and not due(ctx):
        return counts
    asked_at = ctx.clock()
    last = _last_sweep(ctx.organisation)
    since = (last - OVERLAP) if last else asked_at - (CDC_LOOK_BACK - CDC_MARGIN)
    reads = Reads()
    if since < asked_at - (CDC_LOOK_BACK - CDC_MARGIN):
        found = _by_query(ctx, since, ENTITIES, reads)
    else:
        found = _by_cdc(ctx, since, reads)
    counts["metered_reads"] = reads.count
    for entity, rows in found.items():
        for kind in _compare(ctx, entity, rows, reads.count):
            counts[kind] += 1
    # The run's start, like every cursor: never past it (changes during the run are seen next sweep).
    SyncCursor.objects.update_or_create(
        organisation=ctx.organisation, stream=STREAM, defaults={"value": ctx.signpost}
    )
    ctx.audit.record(
        "read",
        "Looked for changes made in QuickBooks to what we wrote.",
        data={**counts, "since": since.isoformat()},
    )
    return counts


def _by_cdc(ctx: Context, since: datetime, reads: Reads) -> dict[str, list[dict[str, Any]]]:
    found = ctx.qbo.cdc(ENTITIES, since)
    reads.count += 1
    if sum(len(rows) for rows in found.values()) < CDC_MAX_OBJECTS:
        return found
    # Capped: the answer may be missing changes. One entity at a time, then queries for a full one.
    out: dict[str, list[dict[str, Any]]] = {}
    for entity in ENTITIES:
        alone = ctx.qbo.cdc([entity], since)[entity]
        reads.count += 1
        out[entity] = (
            alone if len(alone) < CDC_MAX_OBJECTS else _by_query(ctx, since, [entity], reads)[entity]
        )
    return out


def _by_query(
    ctx: Context, since: datetime, entities: Iterable[str], reads: Reads
) -> dict[str, list[dict[str, Any]]]:
    """Changed objects by LastUpdatedTime, and deletions as our objects a query no longer finds."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entity in entities:
        where = [q.compare("MetaData.LastUpdatedTime", ">=", since)]
        if entity == "Vendor":
            where.append(q.active_any())
        rows = [row.body() for row in ctx.qbo.query_all(entity, where, page_size=PAGE)]
        reads.count += len(rows) // PAGE + 1
        out[entity] = rows + _missing(ctx, entity, reads)
    return out


def _missing(ctx: Context, entity: str, reads: Reads) -> list[dict[str, Any]]:
    ids = list(
        _ours(ctx.organisation, ctx.qbo.realm_id).filter(qbo_entity=entity).values_list("qbo_id", flat=True)
    )
    gone: list[dict[str, Any]] = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        where = [q.in_("Id", chunk)] + ([q.active_any()] if entity == "Vendor" else [])
        present = {str(row.Id) for row in ctx.qbo.query_all(entity, where, page_size=PAGE)}
        reads.count += 1
        gone.extend({"Id": i, "status": "Deleted"} for i in chunk if i not in present)
    return gone


def _ours(organisation: Organisation, realm_id: str) -> Any:
    return (
        ExternalRecord.objects.filter(organisation=organisation, state=ExternalRecord.State.SYNCED)
        .filter(realm_id__in=[realm_id, ""])
        .exclude(qbo_id="")
    )


def _compare(ctx: Context, entity: str, rows: list[dict[str, Any]], reads: int) -> Iterable[str]:
    by_id = {str(row["Id"]): row for row in rows}
    records = _ours(ctx.organisation, ctx.qbo.realm_id).filter(qbo_entity=entity, qbo_id__in=list(by_id))
    for record in records:
        kind = _kind(record, by_id[record.qbo_id])
        if kind is None:
            continue
        if _already_known(record, kind, by_id[record.qbo_id]):
            continue
        record_drift(record, kind, by_id[record.qbo_id], reads=reads, run=ctx.run)
        yield kind


def _kind(record: ExternalRecord, row: dict[str, Any]) -> str | None:
    if row.get("status") == "Deleted":
        return QBODrift.Kind.DELETED
    if str(row.get("SyncToken")) == record.sync_token:
        return None  # our own write, as we left it
    if record.qbo_entity == "Bill" and _locked(row):
        return QBODrift.Kind.PAID
    remembered = (record.extra or {}).get(WRITTEN)
    if remembered and not qbo_changes(remembered, row):
        # Only fields we never send changed: our sparse updates leave them alone. Keep the new token,
        # so our next update is not refused as stale.
        record.sync_token = str(row.get("SyncToken"))
        record.save(update_fields=["sync_token", "updated_at"])
        return None
    return QBODrift.Kind.CHANGED


def _locked(row: dict[str, Any]) -> bool:
    return is_locked(Bill.model_validate(row))


def _already_known(record: ExternalRecord, kind: str, row: dict[str, Any]) -> bool:
    """The sweep's overlap lists the same change again: a drift already recorded for it stays as it is
    (open, or resolved by a person)."""
    return QBODrift.objects.filter(
        organisation=record.organisation,
        object_type=record.object_type,
        procurify_id=record.procurify_id,
        kind=kind,
        qbo_sync_token=str(row.get("SyncToken") or ""),
        qbo_id=record.qbo_id,
    ).exists()
