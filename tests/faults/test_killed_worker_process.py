"""A real worker process killed with SIGKILL mid-run, and two worker processes started at once for one
organisation — over real HTTP to the standalone sandbox, against the same PostgreSQL database."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from fault_support import assert_invariants, reap_killed_runs
from sandbox_wiring import connect, point_settings_at

from connector.models import ExternalRecord, SyncRun
from sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox.create(seed="distributor")
    handle = sb.serve()
    try:
        yield sb, handle.url
    finally:
        handle.stop()


def _worker_env(sandbox_url: str) -> dict[str, str]:
    db = connection.settings_dict
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        APP_ENV="test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        QBO_CLIENT_ID=settings.QBO_CLIENT_ID,
        QBO_CLIENT_SECRET=settings.QBO_CLIENT_SECRET,
        QBO_REDIRECT_URI=settings.QBO_REDIRECT_URI,
        QBO_AUTHORIZE_URL=settings.QBO_AUTHORIZE_URL,
        QBO_TOKEN_URL=settings.QBO_TOKEN_URL,
        QBO_REVOKE_URL=settings.QBO_REVOKE_URL,
        QBO_API_BASE=settings.QBO_API_BASE,
        LOG_LEVEL="WARNING",
    )
    return env


def _start_worker(slug: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "sync_organisation", slug],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_first_write(org, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not ExternalRecord.objects.filter(organisation=org).exists():
        assert time.monotonic() < deadline, "the worker never started writing"
        time.sleep(0.02)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_recovers_from_a_worker_killed_mid_run(seed: int, served, org_a, owner, settings) -> None:
    sb, url = served
    point_settings_at(sb, url)
    realm_id = connect(org_a, owner.user, sb, url)
    sb.faults.update(latency_ms=15)  # long enough that the kill lands mid-run

    worker = _start_worker(org_a.slug, _worker_env(url))
    _wait_for_first_write(org_a)
    time.sleep(random.Random(seed).uniform(0.0, 0.8))
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    reap_killed_runs(timezone.now())
    sb.faults.update(latency_ms=0)
    finisher = _start_worker(org_a.slug, _worker_env(url))
    out, err = finisher.communicate(timeout=120)
    assert finisher.returncode == 0, out + err
    assert_invariants(org_a, sb, realm_id)


def test_it_runs_one_of_two_workers_started_together(served, org_a, owner, settings) -> None:
    sb, url = served
    point_settings_at(sb, url)
    realm_id = connect(org_a, owner.user, sb, url)
    sb.faults.update(latency_ms=20)  # the first run must still be going when the second starts
    env = _worker_env(url)
    workers = [_start_worker(org_a.slug, env), _start_worker(org_a.slug, env)]
    results = [w.communicate(timeout=120) for w in workers]
    codes = sorted(w.returncode for w in workers)
    assert codes == [0, 1], results
    refused = next(err for (out, err), w in zip(results, workers, strict=True) if w.returncode == 1)
    assert "already has a sync queued or running" in refused
    assert SyncRun.objects.filter(organisation=org_a).count() == 1
    assert_invariants(org_a, sb, realm_id)
