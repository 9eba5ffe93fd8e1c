"""Bills that left Procurify after they reached QuickBooks: deleted, denied, withdrawn or sent back.

A deleted bill is never listed again, so the incremental poll cannot see it go. Once a day (and on
every "Sync now") the sweep lists every bill's id and status, which costs one Procurify page per
100 bills and no QuickBooks call, and compares them with the bills we wrote. A written bill missing
from the list is read on its own before anything is concluded (a bill edited while the list was read
leaves it, and rows move between pages), so only Procurify's 404 proves a removal. Each difference is
held for a person: nothing is deleted in QuickBooks automatically.

Bills paid in Procurify are not the sweep's business: their payments are recorded in QuickBooks by
the payments step (connector/sync/payments.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Final

from connector.errors import Permanent
from connector.kinds import BILL_LINKS, RecordKind
from connector.models import ExternalRecord, SyncCursor
from connector.procurify.schemas import Bill, BillSummary, MalformedRecord
from connector.sync.context import Context, hold_record
from connector.sync.transform import SYNC_STATUSES, VOID_STATUSES, Held


class _Unknown(Enum):
    UNKNOWN = "unknown"  # an Enum member, not object(): `is UNKNOWN` narrows the type


SWEEP_EVERY = timedelta(hours=24)
STREAM = "removals_sweep"  # a SyncCursor row holding when the sweep last ran
EVERYTHING_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
UNKNOWN: Final = _Unknown.UNKNOWN  # a bill whose detail could not be read: neither listed nor proven gone
KEPT = "kept_after_removal"  # ExternalRecord.extra flag: a person chose to keep the QuickBooks bill


def due(ctx: Context) -> bool:
    """Daily, and whenever a person asked for a sync."""
    if ctx.run is not None and ctx.run.trigger == ctx.run.Trigger.MANUAL:
        return True
    last = (
        SyncCursor.objects.filter(organisation=ctx.organisation, stream=STREAM)
        .values_list("value", flat=True)
        .first()
    )
    return last is None or last <= ctx.clock() - SWEEP_EVERY


def sweep_removals(ctx: Context, *, force: bool = False) -> dict[str, int]:
    """Hold each written bill Procurify no longer lists as approved; returns counts by finding."""
    counts = {"listed": 0, "removed": 0, "voided": 0, "unapproved": 0}
    if not force and not due(ctx):
        return counts
    try:
        statuses, complete = _statuses(ctx.procurify.iter_bills(EVERYTHING_SINCE, ctx.signpost))
    except Permanent as exc:
        if exc.status != 404:
            raise
        # A later page vanished while the list was read (bills edited meanwhile left its window): the
        # rows read so far prove nothing about the others, and the sweep runs again on the next run.
        ctx.audit.record("read", "The bills list changed while the removals sweep read it; retried later.")
        return counts
    counts["listed"] = len(statuses)
    # Vendor credits are bills in Procurify (credits.py): held like bills, under the bill's id.
    written = ExternalRecord.objects.filter(
        organisation=ctx.organisation, object_type__in=BILL_LINKS
    ).exclude(qbo_id="")
    for procurify_id, label, extra in written.values_list("procurify_id", "label", "extra").iterator():
        status = statuses.get(procurify_id)
        if (extra or {}).get(KEPT):
            continue
        if status is None and not complete:
            continue  # an unreadable row may be this bill: absence is not proven
        if status is None:
            # Not listed: edited after the run started (it left the list's window) or skipped as rows
            # moved between pages. Only Procurify's answer for the bill itself proves it is gone.
            read = _status_of(ctx, procurify_id)
            if read is UNKNOWN:
                continue
            status = read
        finding = _finding(status, label)
        if finding is not None:
            kind, held = finding
            hold_record(ctx, RecordKind.BILL, procurify_id, held, label)
            counts[kind] += 1
    SyncCursor.objects.update_or_create(
        organisation=ctx.organisation, stream=STREAM, defaults={"value": ctx.signpost}
    )
    ctx.audit.record(
        "read", "Looked for bills removed in Procurify after they reached QuickBooks.", data=counts
    )
    return counts


def _status_of(ctx: Context, procurify_id: str) -> int | _Unknown | None:
    """The bill's status from its own detail; None when Procurify no longer has it (404); UNKNOWN when
    the answer proves neither."""
    try:
        bill = ctx.procurify.get_bill(procurify_id)
    except Permanent as exc:
        if exc.status == 404:
            return None
        raise
    return bill.status if isinstance(bill, Bill) else UNKNOWN


def _statuses(rows: Iterable[BillSummary | MalformedRecord]) -> tuple[dict[str, int], bool]:
    """uuid → status of every listed bill, and whether every row could be read."""
    out: dict[str, int] = {}
    complete = True
    for row in rows:
        if isinstance(row, MalformedRecord):
            complete = False
            continue
        out[row.uuid] = row.status
    return out, complete


def _finding(status: int | None, label: str) -> tuple[str, Held] | None:
    if status is None:
        return "removed", Held("bill_removed_in_procurify", bill=label)
    if status in VOID_STATUSES:
        return "voided", Held("bill_voided_in_procurify", bill=label)
    if status not in SYNC_STATUSES:
        return "unapproved", Held("bill_unapproved_after_sync", bill=label)
    return None
