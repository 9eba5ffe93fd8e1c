"""Seeded fault scenarios for the payments step (issue 15): the worker dies right after QuickBooks
committed a BillPayment (or before it was sent), answers are lost, 5xx bursts, and a payment is
reversed in Procurify between runs. Whatever happened, every paid payment of a written bill ends as
exactly one BillPayment, every reversed one as none, and each bill's Balance is its total less them.

FAULT_SCENARIOS scales the number of seeds (a tenth of it, at least two); replay one with -k "seed_<n>".
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from fault_support import KIND_SEEDS, WorkerKilled, no_sleep, sync_once
from sandbox_wiring import DOMAIN, connect, point_settings_at

from connector.clients import use_transport
from connector.models import ExternalRecord
from mappings.models import QBOAccount
from mappings.payment_accounts import save_payment_account
from sandbox import Sandbox

BASE = "http://sandbox.test"
PAYMENT_MARKER = re.compile(r"procurify:payment:([0-9a-f]+)")


@contextmanager
def dies_around_a_billpayment(at: int, after_send: bool) -> Iterator[dict[str, int]]:
    """The n-th BillPayment create kills the worker, after QuickBooks committed it or before it left."""
    from connector.qbo.client import QBOClient

    create = QBOClient.create
    seen = {"creates": 0}

    def create_or_die(self: QBOClient, entity: str, body: Any, **kwargs: Any) -> Any:
        if entity != "BillPayment":
            return create(self, entity, body, **kwargs)
        seen["creates"] += 1
        if seen["creates"] == at and not after_send:
            raise WorkerKilled("killed before the BillPayment left")
        result = create(self, entity, body, **kwargs)
        if seen["creates"] == at:
            raise WorkerKilled("killed after QuickBooks committed the BillPayment")
        return result

    QBOClient.create = create_or_die  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        QBOClient.create = create  # type: ignore[method-assign]


def _map_every_method(org) -> None:
    accounts = dict(QBOAccount.objects.filter(organisation=org).values_list("name", "qbo_id"))
    for method in ("ACH", "PAPER_CHECK", "FEDWIRE"):
        save_payment_account(org, method, accounts["Operating Checking"])
    save_payment_account(org, "EXTERNAL", accounts["Amex Corporate Card"])


def assert_payment_invariants(org, sb: Sandbox, realm_id: str) -> int:
    qbo_payments = sb.qbo.objects(realm_id, "BillPayment")
    markers = Counter(
        m.group(1) for p in qbo_payments if (m := PAYMENT_MARKER.search(p.get("PrivateNote", "")))
    )
    assert not {u: n for u, n in markers.items() if n > 1}, f"a payment was recorded twice: {markers}"
    status = {p["uuid"]: p["status"] for p in sb.procurify.payments(DOMAIN)}
    for uuid in markers:
        assert status[uuid] == "paid", f"payment {uuid} is {status[uuid]} in Procurify but paid in QuickBooks"
    links = dict(
        ExternalRecord.objects.filter(organisation=org, object_type="payment").values_list(
            "procurify_id", "qbo_id"
        )
    )
    by_id = {p["Id"]: p for p in qbo_payments}
    for uuid in markers:
        assert uuid in links and links[uuid] in by_id, f"payment {uuid} in QuickBooks is not tracked"
    for bill in sb.qbo.objects(realm_id, "Bill"):
        paid = sum(
            (Decimal(str(line["Amount"])) for p in qbo_payments for line in p["Line"]
             if line["LinkedTxn"][0]["TxnId"] == bill["Id"]),
            Decimal(0),
        )  # fmt: skip
        assert Decimal(str(bill["Balance"])) == Decimal(str(bill["TotalAmt"])) - paid, bill["DocNumber"]
    return len(markers)


@KIND_SEEDS
def test_payments_end_exactly_once_whatever_goes_wrong(seed: int, org_a, owner, settings) -> None:
    rng = random.Random(f"payments:{seed}")
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb, BASE)
    with use_transport(sb.transport(BASE), sleep=no_sleep):
        realm_id = connect(org_a, owner.user, sb, BASE)
        assert sync_once(org_a) == "succeeded"  # bills written; payment methods seen and held
        _map_every_method(org_a)
        sb.faults.update(
            error_rate=rng.choice([0.0, 0.05]),
            lose_response_rate=rng.choice([0.0, 0.1, 0.3]),
            retry_after=0,
            seed=seed,
        )
        outcomes = []
        with dies_around_a_billpayment(rng.randint(1, 4), after_send=rng.random() < 0.7):
            outcomes.append(sync_once(org_a))
        paid = [p for p in sb.procurify.payments(DOMAIN) if p["status"] == "paid"]
        sb.procurify.set_payment_status(DOMAIN, rng.choice(paid)["uuid"], rng.choice(["failed", "denied"]))
        outcomes.append(sync_once(org_a))
        sb.faults.reset()
        for _ in range(3):
            outcomes.append(sync_once(org_a))
            if outcomes[-1] == "succeeded":
                break
    assert outcomes[-1] == "succeeded", outcomes
    assert assert_payment_invariants(org_a, sb, realm_id) >= 3
