"""Real Celery worker processes for the many-tenant run: ``celery -A config worker``, as deployed.

Each worker is its own process group, so stopping it stops its pool children too; ``Workers`` is a
context manager and stops every worker it started, whatever happens in the run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from connector.routing import DEFAULT, INTERACTIVE

ROOT = Path(__file__).resolve().parents[1]
STOP_TIMEOUT = 20.0


@dataclass
class Workers:
    """``count`` worker processes of ``concurrency`` pool slots each, on the product's queues."""

    count: int
    concurrency: int
    env: dict[str, str]
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __enter__(self) -> Workers:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for n in range(self.count):
            command = [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "-Q", f"{INTERACTIVE},{DEFAULT}", "-c", str(self.concurrency), "--pool", "prefork",
                "-n", f"bench{n + 1}@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
            ]  # fmt: skip
            with (self.log_dir / f"worker{n + 1}.log").open("wb") as log:
                self.processes.append(
                    subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
                        command,
                        cwd=ROOT,
                        env={**os.environ, **self.env},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def alive(self) -> int:
        return sum(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL for what is left; each whole process group."""
        for process in self.processes:
            _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait(timeout=5)
        for process in self.processes:
            _signal(process, signal.SIGKILL)  # pool children that outlived their parent
        self.processes.clear()


def _signal(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
