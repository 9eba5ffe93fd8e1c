"""The standalone sandbox in its own process, driven through its control API (sandbox/README.md).

A separate process keeps the fake's CPU time and memory (100,000 generated bills) out of the
worker's numbers: what we measure is the connector, not the fake it talks to. It runs under
bench/sandbox_server.py, which logs every QuickBooks API request it answers (request_log()).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.sandbox_server import LOG_PATH

START_TIMEOUT = 600.0  # generating 100,000 bills takes a while on 2 cores


@dataclass
class SandboxProcess:
    url: str
    process: subprocess.Popen[str]
    control: httpx.Client = field(repr=False)

    @classmethod
    def start(
        cls, *, bills: int, vendors: int, pos: int, tenants: int, big_bills: int | None = None
    ) -> SandboxProcess:
        """``tenants`` companies of ``bills`` each; ``big_bills``: one more company of that many."""
        command = [
            sys.executable, "-m", "bench.sandbox_server", "--port", "0",
            "--tenants", str(tenants), "--n-bills", str(bills),
            "--n-vendors", str(vendors), "--n-pos", str(pos),
        ]  # fmt: skip
        if big_bills:
            command += ["--big-bills", str(big_bills)]
        root = Path(__file__).resolve().parents[1]
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        url = _read_url(process)
        return cls(url=url, process=process, control=httpx.Client(base_url=url, timeout=60.0))

    def stop(self) -> None:
        self.control.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    # ---- control API ----------------------------------------------------------------------

    def faults(self, **knobs: Any) -> None:
        self.control.post("/_sandbox/faults", json=knobs).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return dict(self.control.get("/_sandbox/stats").raise_for_status().json())

    def request_log(self) -> dict[str, list[list[Any]]]:
        """Per company: [arrival epoch s, is batch, batch items, status] of each API request."""
        return dict(self.control.get(LOG_PATH).raise_for_status().json())

    def credentials(self) -> dict[str, Any]:
        return dict(self.control.get("/_sandbox/credentials").raise_for_status().json())

    def approve(self, client_id: str, redirect_uri: str, realm_id: str) -> str:
        body = {"client_id": client_id, "redirect_uri": redirect_uri, "state": "bench", "realm_id": realm_id}
        answer = self.control.post("/_sandbox/qbo/approve", json=body).raise_for_status()
        return str(answer.json()["callback_url"])

    def edit_bill(self, domain: str, uuid: str, **changes: Any) -> None:
        self.control.post(f"/_sandbox/procurify/{domain}/bills/{uuid}", json=changes).raise_for_status()


def _read_url(process: subprocess.Popen[str]) -> str:
    """The fake prints "sandbox listening on http://host:port" once its data is generated."""
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox process exited before it started listening")
        if line.startswith("sandbox listening on "):
            return line.split()[3]
    process.kill()
    raise RuntimeError("the sandbox did not start in time")
