"""Seeded, reproducible fault scenarios through the real stack (Connection rows, token refresh under a row
lock, the sync engine) against the sandbox: a worker killed at a random request (before or after QBO commits),
lost responses, 429 and 5xx bursts, token expiry and refresh-token rotation mid-run, a concurrent edit in QBO,
and edits in Procurify between runs. Whatever happened, the end state must satisfy the invariants.

FAULT_SCENARIOS=200 runs more of them; a failing seed is replayed alone with -k "seed_<n>".
"""

from __future__ import annotations

import os
import random

import pytest
from fault_support import (
    DOMAIN,
    FaultPlan,
    FaultyTransport,
    assert_invariants,
    no_sleep,
    sync_once,
)
from sandbox_wiring import connect, point_settings_at

from connector.clients import use_transport
from connector.models import SyncRun
from sandbox import Sandbox

SCENARIOS = int(os.environ.get("FAULT_SCENARIOS", "20"))
BASE = "http://sandbox.test"


def _plan(rng: random.Random) -> FaultPlan:
    roll = rng.random()
    return FaultPlan(
        kill_at=rng.randint(3, 160) if roll < 0.3 else None,
        kill_at_write=rng.randint(1, 30) if 0.3 <= roll < 0.85 else None,
        kill_after_send=rng.random() < 0.5,
        expire_tokens_at=rng.randint(1, 200) if rng.random() < 0.6 else None,
        qbo_edit_at=rng.randint(40, 220) if rng.random() < 0.5 else None,
    )


def _edit_procurify(sb: Sandbox, rng: random.Random) -> None:
    bills = [b for b in sb.procurify.bills(DOMAIN) if b["status"] == 2]
    for bill in rng.sample(bills, k=min(2, len(bills))):
        sb.procurify.edit_bill(DOMAIN, bill["uuid"], note=f"edited {rng.randint(0, 10**6)}")


@pytest.mark.parametrize("seed", range(SCENARIOS), ids=[f"seed_{n}" for n in range(SCENARIOS)])
def test_it_ends_consistent_whatever_goes_wrong(seed: int, org_a, owner, settings) -> None:
    rng = random.Random(seed)
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb, BASE)
    plan = _plan(rng)
    transport = FaultyTransport(sb.transport(BASE), sb, sb.realm_ids[0], plan)
    with use_transport(transport, sleep=no_sleep):
        realm_id = connect(org_a, owner.user, sb, BASE)
        sb.faults.update(
            error_rate=rng.choice([0.0, 0.03, 0.08]),
            lose_response_rate=rng.choice([0.0, 0.05, 0.15]),
            retry_after=0,
            seed=seed,
        )
        sb.faults.throttle_next(rng.randint(0, 4))
        sb.faults.fail_next(rng.randint(0, 3), status=rng.choice([500, 502, 503]))

        outcomes = [sync_once(org_a)]
        _edit_procurify(sb, rng)
        outcomes.append(sync_once(org_a))  # faults still on

        sb.faults.reset()
        for _ in range(3):  # the weather clears: the next runs must converge
            outcomes.append(sync_once(org_a))
            if outcomes[-1] == "succeeded":
                break
    errors = list(SyncRun.objects.filter(organisation=org_a).order_by("pk").values_list("status", "error"))
    assert outcomes[-1] == "succeeded", f"never recovered: {outcomes} plan={plan} runs={errors}"
    counts = assert_invariants(org_a, sb, realm_id)
    assert counts["qbo_bills"] > 0
    writes_before = sb.qbo.stats(realm_id)["writes"]
    with use_transport(sb.transport(BASE), sleep=no_sleep):
        assert sync_once(org_a) == "succeeded"
    assert sb.qbo.stats(realm_id)["writes"] == writes_before, "a settled organisation must make no writes"
