"""What one run carries from step to step (`Context`), and how any step holds a record.

Below records.py and the steps that build on it (attachments.py, payments.py, sweep.py...), so they
share it without importing each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.errors import RecordHeld
from connector.hold_reasons import QBO_SIDE
from connector.models import SyncRun
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import Bill, MalformedRecord, PurchaseOrder
from connector.qbo.client import QBOClient
from connector.qbo.schemas import CompanyInfo
from connector.sync import holds, reference_schedule
from connector.sync.audit import Audit
from connector.sync.shapes import Mappings
from connector.sync.writers import Writer
from tenants.models import Organisation

SKIPPED, HELD, FAILED = "skipped", "held", "failed"


@dataclass
class Context:
    """Everything one run needs; built once by the engine and passed to every step."""

    organisation: Organisation
    run: SyncRun | None
    procurify: ProcurifyClient
    qbo: QBOClient
    clock: Callable[[], datetime]
    signpost: datetime
    audit: Audit
    writer: Writer
    mappings: Mappings = field(default_factory=Mappings)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    # Bill and purchase-order details the engine started reading ahead (engine._read_ahead), by uuid.
    prefetched: dict[str, Future[Any]] = field(default_factory=dict)
    # QBO's company info as the token check read it: the reference step reuses it (one metered read).
    company_info: CompanyInfo | None = None
    last_beat: float = 0.0  # time.monotonic() of the last run heartbeat (engine._beat)
    # Per step: rows listed and handled, shown as "n of N" while the run works (sync/progress.py).
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Invoice files of the bills read this run, by attachment key, with their download links
    # (connector/sync/attachments.py).
    files: dict[str, Any] = field(default_factory=dict)
    # time.monotonic() after which the bills step stops at its next durable page (engine.SliceDone).
    slice_ends_at: float | None = None

    def read_bill(self, uuid: str) -> Bill | MalformedRecord:
        """The bill's detail: a read-ahead's result (or its exception) when one was started."""
        return self._detail(uuid, self.procurify.get_bill)

    def read_purchase_order(self, uuid: str) -> PurchaseOrder | MalformedRecord:
        """The purchase order's detail: a read-ahead's result (or its exception) when one was started."""
        return self._detail(uuid, self.procurify.get_purchase_order)

    def _detail(self, uuid: str, read: Callable[[str], Any]) -> Any:
        future = self.prefetched.pop(uuid, None)
        return future.result() if future is not None else read(uuid)

    def count(self, object_type: str, outcome: str) -> None:
        self.counts.setdefault(object_type, Counter())[outcome] += 1

    def totals(self) -> dict[str, object]:
        total: Counter[str] = Counter()
        for per_type in self.counts.values():
            total.update(per_type)
        summary: dict[str, object] = {
            k: total.get(k, 0) for k in ("created", "updated", "unchanged", "held", "failed")
        }
        summary["by_type"] = {k: dict(v) for k, v in self.counts.items()}
        return summary


def hold_record(ctx: Context, object_type: str, procurify_id: str, exc: RecordHeld, label: str) -> str:
    holds.hold(ctx.organisation, object_type, procurify_id, exc, label=label, run=ctx.run)
    if exc.reason_code in QBO_SIDE:  # our copies of QuickBooks' lists may be stale
        reference_schedule.request_refresh(ctx.organisation)
    ctx.audit.record(
        "hold",
        exc.message,
        object_type=object_type,
        procurify_id=procurify_id,
        data={"reason_code": exc.reason_code},
    )
    return HELD
