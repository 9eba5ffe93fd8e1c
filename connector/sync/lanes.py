"""Two lanes of writes to one QuickBooks company: batches, and single writes beside them.

QuickBooks counts a batch request once toward its 500 requests a minute, and allows 40 batch requests
a minute (docs/qbo-facts.md, "Limits per company"). A run that only batches stops at 40 x 30 = 1,200
items a minute and leaves ~460 requests a minute unused; single writes in those requests raise the
ceiling to 1,660 (docs/scaling.md). ``TwoLaneBatch`` sends a full chunk as a batch while the batch lane
has room, and while it is full for now (the governor's next batch slot is in the future) writes the
oldest waiting item on its own, if the per-minute lane can take it sooner.

Exactly once, as for a batch (batch.py): waiting creates are checked for lost links 30 at a time (two
queries) before either lane takes them, and a single write of a checked create goes down the writer's
single path (a "creating" row with its request id committed before the POST) without a lookup of its
own. Only the main thread writes, so the in-flight limit is the governor's as before.
"""

from __future__ import annotations

from collections.abc import Callable

from connector.qbo.client import QBOClient
from connector.sync import batch as batches
from connector.sync.audit import Audit
from connector.sync.batch import BillBatch, Pending, Settle
from connector.sync.writers import Writer
from tenants.models import Organisation

# Seconds until a request could leave (batch=True: a batch request); the governor's wait().
LaneWait = Callable[[bool], float]
# A batch slot this close is taken rather than spent on a single write (a single takes ~0.1 s itself).
SLACK_SECONDS = 0.05


class TwoLaneBatch(BillBatch):
    """A BillBatch that also writes singly while the batch lane is full (module docstring)."""

    def __init__(
        self,
        organisation: Organisation,
        qbo: QBOClient,
        writer: Writer,
        audit: Audit,
        settle: Settle,
        wait: LaneWait,
    ) -> None:
        super().__init__(organisation, qbo, writer, audit, settle)
        self.wait = wait

    def _taken(self) -> None:
        if _batches_off():
            super()._taken()
        else:
            self._drain(final=False)

    def flush(self) -> None:
        if _batches_off():
            super().flush()
        else:
            self._drain(final=True)

    def _drain(self, *, final: bool) -> None:
        unchecked = [item for item in self.pending.values() if not item.checked]
        if len(unchecked) >= batches.BATCH_SIZE or (final and len(self.pending) >= batches.MIN_BATCH):
            self._check(unchecked)
        while True:
            ready = [item for item in self.pending.values() if item.checked]
            if not (len(ready) >= batches.BATCH_SIZE or (final and len(ready) >= batches.MIN_BATCH)):
                break
            batch_wait = self.wait(True)
            # Only the batch window itself makes a single write worth it: when the per-minute or
            # per-second window binds, both waits are the same (less the time between the two reads).
            if self.wait(False) + SLACK_SECONDS < batch_wait:
                self._single(ready[0])  # the oldest waits least
            else:
                chunk = ready[: batches.BATCH_SIZE]
                self._take(chunk)
                self._post(chunk)
        if final:  # a tail below MIN_BATCH: one at a time, as BillBatch does
            tail = list(self.pending.values())
            self._take(tail)
            for item in tail:
                self._one_at_a_time(item)

    def _check(self, items: list[Pending]) -> None:
        """Lost-link lookups for these waiting creates (two queries per 30); found ones are adopted."""
        if not items:
            return
        self._take(items)
        for item in self._without_lost_links(items):
            item.checked = True
            self.pending[item.procurify_id] = item

    def _single(self, item: Pending) -> None:
        self._take([item])
        self._one_at_a_time(item)

    def _take(self, items: list[Pending]) -> None:
        # A new mapping each time: engine._isolated and _Checkpoints tell a send by the mapping's identity.
        sent = {id(item) for item in items}
        self.pending = {key: item for key, item in self.pending.items() if id(item) not in sent}


def _batches_off() -> bool:
    # No chunk can reach MIN_BATCH (tests force single creates this way): BillBatch's single path as is.
    return batches.MIN_BATCH > batches.BATCH_SIZE
