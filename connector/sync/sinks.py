"""Where a step's writes go: one at a time, or through QBO /batch. Chosen when the step is built
(engine.py) and handed down to every record, never switched on a shared context.

A sink either takes the write (QUEUED: it is settled, counted and its hold resolved when its batch
goes) or decides it at once (UNCHANGED), or answers None: "write it one at a time yourself" (the
caller's Writer.write, the exactly-once single path).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from connector.sync.audit import RecordAudit
from connector.sync.batch import BillBatch, Pending
from connector.sync.transform import Plan

# settings.QBO_WRITE_LANES: how a run's vendors, purchase orders and bills go to QuickBooks (lanes.py).
TWO_LANES, BATCH_LANE, SINGLE_LANE = "batch+single", "batch", "single"


def write_lanes() -> str:
    from django.conf import settings

    return str(getattr(settings, "QBO_WRITE_LANES", TWO_LANES))


class WriteSink(Protocol):
    @property
    def pending(self) -> Mapping[str, Pending]:
        """Writes taken and not yet sent, by Procurify id (replaced by a new mapping on each flush)."""

    def __contains__(self, procurify_id: object) -> bool: ...

    def offer(
        self, object_type: str, procurify_id: str, label: str, plan: Plan, audit: RecordAudit
    ) -> str | None:
        """QUEUED, an outcome decided now, or None for "write it one at a time"."""

    def unsettled(self) -> list[Pending]:
        """Writes taken and not yet settled: waiting, or on their way (lanes.Flight)."""

    def flush(self) -> None:
        """Send everything taken and settle it; before anything reads what they write."""

    def close(self) -> None:
        """The step is over, well or not: nothing may still be on its way after this."""


class SingleWrites:
    """Every write goes one request at a time (replays, hold retries, the preview of one record)."""

    pending: Mapping[str, Pending] = MappingProxyType({})

    def __contains__(self, procurify_id: object) -> bool:
        return False

    def offer(
        self, object_type: str, procurify_id: str, label: str, plan: Plan, audit: RecordAudit
    ) -> str | None:
        return None

    def unsettled(self) -> list[Pending]:
        return []

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


SINGLE = SingleWrites()


class BatchedWrites:
    """Writes wait in a BillBatch and go to QBO 30 to a request (batch.py)."""

    def __init__(self, batch: BillBatch) -> None:
        self.batch = batch

    @property
    def pending(self) -> Mapping[str, Pending]:
        return self.batch.pending

    def __contains__(self, procurify_id: object) -> bool:
        return isinstance(procurify_id, str) and procurify_id in self.batch

    def offer(
        self, object_type: str, procurify_id: str, label: str, plan: Plan, audit: RecordAudit
    ) -> str | None:
        return self.batch.offer(object_type, procurify_id, label, plan, audit)

    def unsettled(self) -> list[Pending]:
        return self.batch.unsettled()

    def flush(self) -> None:
        self.batch.flush()

    def close(self) -> None:
        self.batch.close()
