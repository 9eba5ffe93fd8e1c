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
own.

One batch is on its way at a time, on a background thread (``Flight``): while QuickBooks works on it
(and while the governor holds it for its slot), the main thread reads and prepares the next chunk and
writes singles. Everything that touches the database stays on the main thread: the "creating" rows are
committed before the batch leaves, and its answer is settled there when it lands (a copy of the client
with the token of the moment, QBOClient.detached). A step that stops waits for the flight and leaves
its answer unsettled: the "creating" rows make the next run adopt what landed, as after a lost answer.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from connector.errors import QBOFault
from connector.qbo.client import BatchItemResult, QBOClient, TokenExpiredInFlight
from connector.sync import batch as batches
from connector.sync.audit import Audit
from connector.sync.batch import BillBatch, Pending, Settle
from connector.sync.writers import Writer
from tenants.models import Organisation

# Seconds until a request could leave (batch=True: a batch request); the governor's wait().
LaneWait = Callable[[bool], float]
# A batch slot this close is taken rather than spent on a single write (a single takes ~0.1 s itself).
SLACK_SECONDS = 0.05


Results = list[BatchItemResult | QBOFault]


@dataclass
class Check:
    """Lost-link lookups under way for waiting creates; the answer is the creates QuickBooks holds."""

    items: list[Pending]
    found: Future[list[Pending]]
    metered: list[str] = field(default_factory=list)


@dataclass
class Flight:
    """The batch on its way: its items, its request, and the answer to come."""

    chunk: list[Pending]
    request_id: str
    body: list[dict[str, Any]]
    answer: Future[Results]
    metered: list[str] = field(default_factory=list)  # what the detached client was metered for


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
        *,
        background: bool = True,
    ) -> None:
        super().__init__(organisation, qbo, writer, audit, settle)
        self.wait, self.background = wait, background
        self.flight: Flight | None = None
        self.checks: list[Check] = []
        self._pool: ThreadPoolExecutor | None = None

    def __contains__(self, procurify_id: str) -> bool:
        flying = self.flight is not None and any(i.procurify_id == procurify_id for i in self.flight.chunk)
        return flying or procurify_id in self.pending

    def unsettled(self) -> list[Pending]:
        return [*(self.flight.chunk if self.flight else []), *self.pending.values()]

    def close(self) -> None:
        """Wait for a batch still on its way, without settling it (module docstring)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool, self.flight, self.checks = None, None, []

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
        unchecked = [item for item in self.pending.values() if not (item.checked or item.checking)]
        tail_creates = sum(1 for item in unchecked if item.create)
        # A tail that goes singly is looked up together too: two queries instead of two per create.
        if len(unchecked) >= batches.BATCH_SIZE or (
            final and (len(self.pending) >= batches.MIN_BATCH or tail_creates > 1)
        ):
            self._check(unchecked)
        while True:
            self._land_checks(wait=final)
            if self.flight is not None and self.flight.answer.done():
                self._land()
            ready = [item for item in self.pending.values() if item.checked]
            if not (len(ready) >= batches.BATCH_SIZE or (final and len(ready) >= batches.MIN_BATCH)):
                break
            if self.flight is not None:  # the batch lane is busy: a single now if that lane is free
                if self.wait(False) < SLACK_SECONDS:
                    self._single(ready[0])
                else:
                    self._land()
                continue
            batch_wait = self.wait(True)
            # Only the batch window itself makes a single write worth it: when the per-minute or
            # per-second window binds, both waits are the same (less the time between the two reads).
            if self.wait(False) + SLACK_SECONDS < batch_wait:
                self._single(ready[0])  # the oldest waits least
            else:
                chunk = ready[: batches.BATCH_SIZE]
                self._take(chunk)
                self._launch(chunk)
        if final:  # a tail below MIN_BATCH: one at a time, as BillBatch does
            self._land()
            tail = list(self.pending.values())
            self._take(tail)
            for item in tail:
                self._one_at_a_time(item)

    def _launch(self, chunk: list[Pending]) -> None:
        request_id, body = self._prepare(chunk)
        if not self.background:
            self._finish(chunk, request_id, lambda: self.qbo.batch(body, request_id=request_id))
            return
        client, metered = self.qbo.detached()
        answer = self._threads().submit(client.batch, body, request_id=request_id)
        self.flight = Flight(chunk, request_id, body, answer, metered)

    def _threads(self) -> ThreadPoolExecutor:
        # Two: a lookup need not wait behind the batch on its way (and the reverse).
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qbo-batch")
        return self._pool

    def _report(self, metered: list[str]) -> None:
        if self.qbo.on_metered is not None:
            for kind in metered:
                self.qbo.on_metered(kind)

    def _land(self) -> None:
        """Settle the batch on its way, once it answered (here, on the main thread)."""
        flight, self.flight = self.flight, None
        if flight is None:
            return
        # A new mapping: engine._isolated tells a failure of this landing from the record it handles.
        self.pending = dict(self.pending)
        self._finish(flight.chunk, flight.request_id, lambda: self._answer(flight))

    def _answer(self, flight: Flight) -> Results:
        try:
            results = flight.answer.result()
        except TokenExpiredInFlight:
            # Refused before QuickBooks read it: sent again here, where the token can be refreshed
            # (the same requestid, so a copy that did land is answered, not written twice).
            return self.qbo.batch(flight.body, request_id=flight.request_id)
        finally:
            self._report(flight.metered)
        return results

    def _check(self, items: list[Pending]) -> None:
        """Lost-link lookups for these waiting creates (two queries per 30), on the background thread
        while the main thread goes on; found ones are adopted when the answer lands (_land_checks)."""
        if not items:
            return
        if not self.background:
            self._take(items)
            for item in self._without_lost_links(items):
                item.checked = True
                self.pending[item.procurify_id] = item
            return
        client, metered = self.qbo.detached()
        for item in items:
            item.checking = True
        self.checks.append(Check(items, self._threads().submit(batches.lost_links, items, client), metered))

    def _land_checks(self, *, wait: bool) -> None:
        while self.checks and (wait or self.checks[0].found.done()):
            check = self.checks.pop(0)
            # A new mapping: engine._isolated tells a failure of this lookup from the record it handles.
            self.pending = dict(self.pending)
            try:
                lost = check.found.result()
            except TokenExpiredInFlight:
                lost = batches.lost_links(check.items, self.qbo)  # here the token can be refreshed
            finally:
                self._report(check.metered)
            for item in check.items:
                item.checking, item.checked = False, item not in lost
            self._take([item for item in lost if self.pending.get(item.procurify_id) is item])
            self._looked_up(check.items, lost)
            self._adopt_lost(lost)

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
