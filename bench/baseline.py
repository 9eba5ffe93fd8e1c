"""The naive baseline: what a typical script does. One request per record, sequential, no state.

It shares the engine's typed clients and transform, so the comparison isolates the I/O pattern:
no read-ahead, no pacing, no ExternalRecord/payload hash (a changed bill is found again in QBO by
DocNumber before its update), no audit trail and no holds (a refused bill is just counted).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from connector.errors import ConnectorError, RecordHeld
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import Bill
from connector.qbo import query as q
from connector.qbo.client import QBOClient
from connector.qbo.governor import Limits, LocalGovernor
from connector.sync.reference import load_mappings
from connector.sync.transform import SYNC_STATUSES, Mappings, bill_plan
from tenants.models import Organisation

UNPACED = LocalGovernor(Limits(per_minute=10**9, per_second=10**9, batch_per_minute=10**9, in_flight=10**6))
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def naive_sync(
    organisation: Organisation, procurify: ProcurifyClient, qbo: QBOClient, since: datetime | None
) -> dict[str, int]:
    """Create (first run) or update (``since`` given) every approved bill, one at a time."""
    qbo.governor = UNPACED  # a script has no pacer; it meets QBO's limits only by being slow
    mappings = load_mappings(organisation)
    counts = {"written": 0, "refused": 0, "skipped": 0}
    for row in procurify.iter_bills(since or EPOCH, timezone.now()):
        bill = procurify.get_bill(str(getattr(row, "uuid", "")))
        if not isinstance(bill, Bill) or bill.status not in SYNC_STATUSES:
            counts["skipped"] += 1
            continue
        counts[_write(bill, mappings, qbo, update=since is not None)] += 1
    return counts


def _write(bill: Bill, mappings: Mappings, qbo: QBOClient, *, update: bool) -> str:
    try:
        plan = bill_plan(bill, mappings)
        if not update:
            qbo.create("Bill", plan.payload)
            return "written"
        where = [q.eq("VendorRef", plan.vendor_id), q.eq("DocNumber", plan.doc_number or "")]
        found = next(iter(qbo.query_all("Bill", where)), None)
        if found is None:
            qbo.create("Bill", plan.payload)
        else:
            qbo.update("Bill", {"Id": found.Id, "SyncToken": found.SyncToken, **plan.payload})
        return "written"
    except (RecordHeld, ConnectorError):
        return "refused"
