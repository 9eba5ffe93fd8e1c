"""Run the sandbox on a port: python -m sandbox --port 8765 --seed distributor."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from . import Sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--seed", default="distributor", choices=["distributor", "canada", "large", "empty", "none"]
    )
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--n-bills", type=int, default=10_000)
    parser.add_argument("--n-vendors", type=int, default=500)
    parser.add_argument("--n-pos", type=int, default=1_000)
    parser.add_argument("--now", help="freeze the clock at this ISO time (repeatable data)")
    parser.add_argument(
        "--no-multicurrency", action="store_true", help="distributor: a QBO company without multicurrency"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--lose-response-rate", type=float, default=0.0)
    parser.add_argument("--throttle", action="store_true", help="enforce QBO's per-realm limits")
    parser.add_argument("--retry-after", type=int, default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    options = {}
    if args.seed == "large":
        options = {"n_bills": args.n_bills, "n_vendors": args.n_vendors, "n_pos": args.n_pos}
    elif args.seed == "distributor" and args.no_multicurrency:
        options = {"qbo_multicurrency": False}
    now = datetime.fromisoformat(args.now) if args.now else None
    seed = None if args.seed == "none" else args.seed
    sandbox = Sandbox.create(seed=seed, tenants=args.tenants, now=now, **options)
    sandbox.faults.update(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        lose_response_rate=args.lose_response_rate,
        throttle=args.throttle,
        retry_after=args.retry_after,
    )
    handle = sandbox.serve(args.host, args.port, verbose=args.verbose)
    print(f"sandbox listening on {handle.url}  (inspect: {handle.url}/_sandbox/)")
    print(json.dumps({"qbo": sandbox.qbo_urls(handle.url), "credentials": sandbox.credentials}, indent=2))
    try:
        handle.serve_forever()
    except KeyboardInterrupt:
        handle.stop()


if __name__ == "__main__":
    main()
