"""Throttling, injected 5xx, latency and lost responses (reference QBO §9, §5; issue §3)."""

from __future__ import annotations

import threading

import httpx
import pytest
from sandbox_support import QBO, fault_code

from sandbox import Sandbox


def test_it_throttles_a_realm_at_500_requests_a_minute_with_3001(sb: Sandbox, qbo: QBO) -> None:
    sb.faults.update(throttle=True, retry_after=60)
    statuses = [qbo.get("preferences").status_code for _ in range(501)]
    assert statuses[:500] == [200] * 500
    last = qbo.get("preferences")
    assert last.status_code == 429 and fault_code(last) == "3001"
    assert "ThrottleExceeded" in last.json()["fault"]["error"][0]["message"]
    assert last.headers["Retry-After"] == "60"
    sb.clock.advance(seconds=60)
    assert qbo.get("preferences").status_code == 200
    assert sb.qbo.stats(qbo.realm_id)["throttled"] == 2


def test_it_throttles_batches_at_40_a_minute(sb: Sandbox, qbo: QBO) -> None:
    sb.faults.update(throttle=True)
    batch = {"BatchItemRequest": [{"bId": "1", "Query": "SELECT * FROM Term"}]}
    statuses = [qbo.post("batch", batch).status_code for _ in range(41)]
    assert statuses == [200] * 40 + [429]
    assert qbo.get("preferences").status_code == 200  # plain requests still have room


def test_it_limits_concurrent_requests_per_realm(sb: Sandbox, qbo: QBO) -> None:
    sb.faults.update(throttle=True, max_concurrent=2, latency_ms=150)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(qbo.get("preferences").status_code)) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(200) == 2 and results.count(429) == 3


def test_it_answers_injected_5xx_in_both_shapes(sb: Sandbox, qbo: QBO) -> None:
    sb.faults.fail_next(1, status=503)
    sb.faults.fail_next(1, status=500)
    outage = qbo.get("preferences")
    assert outage.status_code == 503 and outage.headers["Content-Type"].startswith("text/html")
    system = qbo.get("preferences")
    assert system.status_code == 500 and fault_code(system) == "10000"
    assert qbo.get("preferences").status_code == 200


def test_it_injects_errors_at_a_rate(sb: Sandbox, qbo: QBO) -> None:
    sb.faults.update(error_rate=0.5, seed=3)
    statuses = [qbo.get("preferences").status_code for _ in range(200)]
    assert 60 < statuses.count(503) < 140


def test_it_commits_the_write_then_times_out_the_in_process_client(sb: Sandbox, qbo: QBO) -> None:
    sb.faults.lose_next(1)
    with pytest.raises(httpx.ReadTimeout):
        qbo.post("vendor", {"DisplayName": "Lost Response Vendor"}, requestid="lost-1")
    assert [v["DisplayName"] for v in sb.qbo.objects(qbo.realm_id, "Vendor")].count(
        "Lost Response Vendor"
    ) == 1
    retry = qbo.post("vendor", {"DisplayName": "Lost Response Vendor"}, requestid="lost-1")
    assert retry.status_code == 200 and retry.json()["Vendor"]["DisplayName"] == "Lost Response Vendor"


def test_it_never_loses_reads(sb: Sandbox, qbo: QBO) -> None:
    sb.faults.lose_next(1)
    assert qbo.get("preferences").status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        qbo.post("vendor", {"DisplayName": "Later Vendor"})


def test_it_rejects_unknown_knobs(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault knob"):
        sb.faults.update(explode=True)


def test_it_counts_reads_and_writes_per_realm(sb: Sandbox, qbo: QBO) -> None:
    qbo.get("preferences")
    qbo.query("SELECT * FROM Vendor")
    qbo.ok("vendor", {"DisplayName": "Counted"})
    stats = sb.qbo.stats(qbo.realm_id)
    assert stats["reads"] == 2 and stats["writes"] == 1
    assert stats["by_endpoint"]["write:create Vendor"] == 1 and stats["by_endpoint"]["read:query Vendor"] == 1
