"""The sandbox on a real port with a request log the benchmark reads (python -m bench.sandbox_server).

The benchmark counts QuickBooks requests where QuickBooks would: at the server. Every request to a
company's API (``/qbo/v3/company/{realm}/...``) is logged with its arrival time, whether it was a
batch, how many items the batch carried and its status, so a phase's requests, batch items, 429s
and the peak requests in any 60 s window come from one log, whichever process sent them (the engine
in this process or Celery workers). GET ``/_bench/requests`` answers the log.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox import Sandbox, seed_large
from sandbox.server import serve

REALM_PATH = re.compile(r"/qbo/v3/company/(?P<realm>[^/]+)/(?P<rest>[^?]*)")
LOG_PATH = "/_bench/requests"


@dataclass
class RequestLog:
    """Per company: (arrival epoch seconds, is batch, batch items, status) of every API request."""

    entries: dict[str, list[tuple[float, bool, int, int]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, realm: str, at: float, batch: bool, items: int, status: int) -> None:
        with self.lock:
            self.entries.setdefault(realm, []).append((at, batch, items, status))

    def as_json(self) -> dict[str, list[list[Any]]]:
        with self.lock:
            return {realm: [list(e) for e in rows] for realm, rows in self.entries.items()}


class LoggedSandbox:
    """Answers like the sandbox, and logs each QuickBooks API request it answered."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.log = RequestLog()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == LOG_PATH:
            return httpx.Response(200, json=self.log.as_json())
        match = REALM_PATH.match(request.url.path)
        at = time.time()
        response = self.sandbox.handle(request)
        if match is not None:
            batch = match["rest"] == "batch"
            items = _batch_items(request) if batch and response.status_code < 400 else 0
            self.log.add(match["realm"], at, batch, items, response.status_code)
        return response


def _batch_items(request: httpx.Request) -> int:
    try:
        return len(json.loads(request.content).get("BatchItemRequest") or [])
    except (ValueError, AttributeError):
        return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_server", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--n-bills", type=int, default=10_000)
    parser.add_argument("--n-vendors", type=int, default=500)
    parser.add_argument("--n-pos", type=int, default=1_000)
    parser.add_argument("--big-bills", type=int, default=0, help="one more company of this many bills")
    args = parser.parse_args(argv)
    options = {"n_bills": args.n_bills, "n_vendors": args.n_vendors, "n_pos": args.n_pos}
    sandbox = Sandbox.create(seed="large", tenants=args.tenants, **options)
    if args.big_bills:  # the "large" seed's shape: a vendor per 20 bills, a PO per 10
        big = seed_large.build(
            args.tenants, sandbox.clock.now(), args.big_bills, args.big_bills // 20, args.big_bills // 10
        )
        sandbox.procurify.add_site(big.site)
        sandbox.qbo.add_realm(big.realm)
    handle = serve(LoggedSandbox(sandbox), "127.0.0.1", args.port)  # type: ignore[arg-type]  # duck-typed
    print(f"sandbox listening on {handle.url}", flush=True)
    handle.serve_forever()


if __name__ == "__main__":
    main()
