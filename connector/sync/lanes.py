"""Two lanes of writes to one QuickBooks company: batches, and single writes beside them.

QuickBooks counts a batch request once toward its 500 requests a minute, and allows 40 batch requests
a minute (docs/qbo-facts.md, "Limits per company"). A run that only batches stops at 40 x 30 = 1,200
items a minute and leaves ~460 requests a minute unused; single writes in those requests raise the
ceiling to 1,660 (docs/scaling.md). ``TwoLaneBatch`` sends each full chunk as a batch, one batch on its
way at a time (``Flight``); while that batch is on its way (or waits for its slot) the oldest waiting
creates go on their own (``Single``), as many at once as ``SINGLES_ON_THEIR_WAY``, while the
per-request lane has room now.

The requests go on background threads; the main thread reads and prepares the next records meanwhile.
Everything that touches the database stays on the main thread: the requests carry the token of the
moment and report their metered calls back (QBOClient.detached), and answers are settled on the main
thread when they land.

Exactly once, as for a batch (batch.py): waiting creates are checked for lost links 30 at a time (two
queries, ``Check``, also on a thread) before either lane takes them; every create's "creating" row with
its request id is committed before its request leaves (Writer.begin_create for a single). A step that
stops waits for what is on its way and leaves it unsettled: the "creating" rows make the next run look
those creates up and adopt what landed, as after a lost answer.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from connector.errors import QBOFault
from connector.models import ExternalRecord
from connector.qbo.client import BatchItemResult, QBOClient, TokenExpiredInFlight
from connector.qbo.schemas import Entity
from connector.sync import batch as batches
from connector.sync.audit import Audit
from connector.sync.batch import BillBatch, Pending, Settle
from connector.sync.writers import Writer
from tenants.models import Organisation

# Seconds until a request could leave (batch=True: a batch request); the governor's wait().
LaneWait = Callable[[bool], float]
# The per-request lane counts as free when the governor's next slot is this close (a request takes ~0.1 s).
SLACK_SECONDS = 0.05
# Creates on their own at once: QuickBooks allows 10 requests in flight per company, and the batch on
# its way and a lookup take two more (docs/qbo-facts.md, "Limits per company").
SINGLES_ON_THEIR_WAY = 4
# Writes waiting here while both lanes are busy; past this the main thread waits for an answer
# instead of reading on (memory stays bounded whatever the lanes' pace).
MAX_WAITING = 3 * batches.BATCH_SIZE


Results = list[BatchItemResult | QBOFault]
T = TypeVar("T")


@dataclass
class Check:
    """Lost-link lookups under way for waiting creates; the answer is the creates QuickBooks holds."""

    items: list[Pending]
    found: Future[list[Pending]]
    metered: list[str] = field(default_factory=list)


@dataclass
class Single:
    """A create on its own, on its way: its "creating" row is committed (Writer.begin_create)."""

    item: Pending
    record: ExternalRecord
    answer: Future[Entity]
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
    ) -> None:
        super().__init__(organisation, qbo, writer, audit, settle)
        self.wait = wait
        self.flight: Flight | None = None
        self.singles: list[Single] = []
        self.checks: list[Check] = []
        self._pool: ThreadPoolExecutor | None = None

    def __contains__(self, procurify_id: str) -> bool:
        return any(item.procurify_id == procurify_id for item in self._on_their_way()) or (
            procurify_id in self.pending
        )

    def unsettled(self) -> list[Pending]:
        return [*self._on_their_way(), *self.pending.values()]

    def close(self) -> None:
        """Wait for writes still on their way, without settling them (module docstring)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._pool, self.flight, self.singles, self.checks = None, None, [], []

    def _on_their_way(self) -> list[Pending]:
        return [*(self.flight.chunk if self.flight else []), *(single.item for single in self.singles)]

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
            self._land_answered(checks=final)
            ready = [item for item in self.pending.values() if item.checked]
            if not (len(ready) >= batches.BATCH_SIZE or (final and len(ready) >= batches.MIN_BATCH)):
                break
            if self.flight is None:  # the batch waits for its slot on its thread, not here
                chunk = ready[: batches.BATCH_SIZE]
                self._take(chunk)
                self._launch(chunk)
            elif len(self.singles) < SINGLES_ON_THEIR_WAY and self.wait(False) < SLACK_SECONDS:
                self._single(ready[0])  # the batch lane is busy and the per-request lane free
            elif final or len(self.pending) >= MAX_WAITING:
                self._answer_any()
            else:
                break  # both lanes are busy: read on, the next write comes back here
        if final:  # a tail below MIN_BATCH: one at a time, as BillBatch does
            tail = list(self.pending.values())
            for item in tail:
                self._single(item)
            self._land_answered(checks=True, wait=True)

    def _land_answered(self, *, checks: bool, wait: bool = False) -> None:
        """Settle what answered (everything, with ``wait``), here on the main thread."""
        self._land_checks(wait=checks)
        for single in list(self.singles):
            if wait or single.answer.done():
                self._land_single(single)
        if self.flight is not None and (wait or self.flight.answer.done()):
            self._land()

    def _answer_any(self) -> None:
        futures: list[Future[Any]] = [single.answer for single in self.singles]
        futures += [self.flight.answer] if self.flight else []
        wait_for(futures, return_when=FIRST_COMPLETED)

    # ---- lost-link lookups ------------------------------------------------------------------------

    def _check(self, items: list[Pending]) -> None:
        """Lost-link lookups for these waiting creates (two queries per 30), on a background thread
        while the main thread goes on; found ones are adopted when the answer lands (_land_checks)."""
        if not items:
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
            again = partial(batches.lost_links, check.items, self.qbo)
            lost = self._answered(check.found, check.metered, again)
            for item in check.items:
                item.checking, item.checked = False, item not in lost
            self._take([item for item in lost if self.pending.get(item.procurify_id) is item])
            self._looked_up(check.items, lost)
            self._adopt_lost(lost)

    # ---- the batch lane ---------------------------------------------------------------------------

    def _launch(self, chunk: list[Pending]) -> None:
        request_id, body = self._prepare(chunk)
        client, metered = self.qbo.detached()
        answer = self._threads().submit(client.batch, body, request_id=request_id)
        self.flight = Flight(chunk, request_id, body, answer, metered)

    def _land(self) -> None:
        """Settle the batch on its way, once it answered."""
        flight, self.flight = self.flight, None
        if flight is None:
            return
        self.pending = dict(self.pending)  # as in _land_checks
        self._finish(flight.chunk, flight.request_id, lambda: self._batch_answer(flight))

    def _batch_answer(self, flight: Flight) -> Results:
        again = partial(self.qbo.batch, flight.body, request_id=flight.request_id)
        return self._answered(flight.answer, flight.metered, again)

    # ---- the per-request lane ---------------------------------------------------------------------

    def _single(self, item: Pending) -> None:
        """One write on its own: a looked-up create goes on a background thread; an update or a create
        not looked up yet goes the writer's whole single path here (it may look up and adopt)."""
        self._take([item])
        if not (item.create and item.record is None and item.checked):
            self._one_at_a_time(item)
            return
        record = self.writer.begin_create(item.object_type, item.procurify_id, item.plan, item.audit)
        client, metered = self.qbo.detached()
        plan = item.plan
        answer = self._threads().submit(
            client.create, plan.entity, plan.payload, request_id=record.request_id
        )
        self.singles.append(Single(item, record, answer, metered))

    def _land_single(self, single: Single) -> None:
        self.singles.remove(single)
        self.pending = dict(self.pending)  # as in _land_checks
        item = single.item

        def finish() -> str:
            answer = lambda: self._single_answer(single)  # noqa: E731 - read once, inside the writer
            return self.writer.finish_create(single.record, item.plan, item.audit, answer).outcome

        self.settle(item, finish)

    def _single_answer(self, single: Single) -> Entity:
        plan = single.item.plan
        again = partial(self.qbo.create, plan.entity, plan.payload, request_id=single.record.request_id)
        return self._answered(single.answer, single.metered, again)

    def _answered(self, answer: Future[T], metered: list[str], again: Callable[[], T]) -> T:
        """What a background request answered (or raised), its metered calls reported here. A 401 on
        the token it carried is sent ``again`` here, where the token can be refreshed: a request is sent
        again under the same requestid, so a copy that did land is answered, not written twice."""
        try:
            return answer.result()
        except TokenExpiredInFlight:
            return again()
        finally:
            self._report(metered)

    # ---- threads ----------------------------------------------------------------------------------

    def _threads(self) -> ThreadPoolExecutor:
        # The batch on its way, the singles and a lookup: none waits behind another.
        if self._pool is None:
            workers = 2 + SINGLES_ON_THEIR_WAY
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qbo-write")
        return self._pool

    def _report(self, metered: list[str]) -> None:
        if self.qbo.on_metered is not None:
            for kind in metered:
                self.qbo.on_metered(kind)

    def _take(self, items: list[Pending]) -> None:
        # A new mapping each time: engine._isolated and _Checkpoints tell a send by the mapping's identity.
        sent = {id(item) for item in items}
        self.pending = {key: item for key, item in self.pending.items() if id(item) not in sent}


def _batches_off() -> bool:
    # No chunk can reach MIN_BATCH (tests force single creates this way): BillBatch's single path as is.
    return batches.MIN_BATCH > batches.BATCH_SIZE
