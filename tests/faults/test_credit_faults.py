"""Seeded scenarios for credits (issue 15): while a sync pages through the bills, people turn bills into
credit notes and credit notes back into invoices, and a worker may die right after QuickBooks committed
a write. Each ends in the suite's invariants: one Bill or VendorCredit per Procurify bill, never both,
nothing lost, every hold explained; a settled organisation writes nothing."""

from __future__ import annotations

import random
from decimal import Decimal

from fault_support import (
    BASE,
    DOMAIN,
    EditsBetweenPages,
    assert_invariants,
    dies_after_qbo_commits,
    no_sleep,
    ours_in_qbo,
    sync_once,
)
from fault_support import (
    KIND_SEEDS as SEEDS,
)
from sandbox_wiring import connect, point_settings_at

from connector.clients import use_transport
from connector.models import HeldRecord, SyncRun
from connector.procurify.streams import BillsStream
from connector.sync import batch
from sandbox import Sandbox


def _errors(org) -> list[tuple[str, str]]:
    return list(SyncRun.objects.filter(organisation=org).order_by("pk").values_list("status", "error"))


def _credits(sb: Sandbox, realm_id: str) -> int:
    return len(sb.qbo.objects(realm_id, "VendorCredit"))


@SEEDS
def test_bills_changing_sign_between_page_reads_and_a_worker_killed_after_a_commit(
    seed: int, org_a, owner, settings, monkeypatch
) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(BillsStream, "page_size", rng.choice([3, 5, 10]))
    size = rng.choice([3, 5])
    monkeypatch.setattr(batch, "BATCH_SIZE", size)
    monkeypatch.setattr(batch, "MIN_BATCH", rng.choice([size, 10**6]))
    sb = Sandbox.create(seed="distributor")
    edits = EditsBetweenPages(sb.transport(BASE), sb, rng, rate=rng.choice([0.3, 0.6]), kinds=("flip_sign",))
    point_settings_at(sb, BASE)
    with use_transport(edits, sleep=no_sleep):
        realm_id = connect(org_a, owner.user, sb, BASE)
        with dies_after_qbo_commits(at=rng.randint(1, 4)) as death:
            first = sync_once(org_a)
        outcomes = [first, sync_once(org_a)]
        edits.rate = 0.0
        outcomes.append(sync_once(org_a))  # Procurify at rest: the last sign of every bill is read now
        assert outcomes[-1] == "succeeded", (outcomes, _errors(org_a))
        assert death.fired and edits.done["flip_sign"] > 0
        counts = assert_invariants(org_a, sb, realm_id)
        assert counts["qbo_bills"] > 0 and _credits(sb, realm_id) > 0
        writes = sb.qbo.stats(realm_id)["writes"]
        assert sync_once(org_a) == "succeeded", _errors(org_a)
        assert sb.qbo.stats(realm_id)["writes"] == writes, "a settled organisation must make no writes"
        credit_ids = {c["Id"] for c in sb.qbo.objects(realm_id, "VendorCredit")}
        held = {h.procurify_id for h in HeldRecord.objects.filter(organisation=org_a, object_type="bill")}
        checked = 0
        for bill in sb.procurify.bills(DOMAIN):
            # Whatever sign each bill ended with, QuickBooks holds the matching kind (or a person decides).
            uuid = bill["uuid"].replace("-", "")
            mine = [
                o
                for o in ours_in_qbo(sb, realm_id)
                if f"procurify:bill:{uuid} " in f"{o.get('PrivateNote')} "
            ]
            if not mine or uuid in held:
                continue
            negative = Decimal(str(bill["total_cost_with_tax"])) < 0
            assert (mine[0]["Id"] in credit_ids) == negative, f"{bill['invoice_number']} is the wrong kind"
            checked += 1
        assert checked > 0
