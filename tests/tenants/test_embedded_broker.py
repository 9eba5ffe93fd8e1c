"""With no REDIS_URL the product still runs: Celery falls back to kombu's filesystem transport.
A real worker process takes a real task through it and writes to the database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SEND_AND_WAIT = """
import os, sys, time, django
django.setup()
from django.conf import settings
from connector.models import WorkerHeartbeat
from connector.tasks import heartbeat
assert settings.CELERY_BROKER_URL == "filesystem://", settings.CELERY_BROKER_URL
heartbeat.apply_async(queue=sys.argv[1])
deadline = time.monotonic() + 60
while not WorkerHeartbeat.objects.exists():
    assert time.monotonic() < deadline, "the worker never ran the task"
    time.sleep(0.2)
print("heartbeat received")
"""


def test_it_runs_tasks_without_redis(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        APP_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    queue = f"test-{uuid.uuid4().hex[:8]}"  # a queue of its own: a running demo's worker must not take it
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", SEND_AND_WAIT, queue],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "heartbeat received" in result.stdout
    finally:
        worker.terminate()
        worker.wait(timeout=30)
