"""The benchmark's command line: python -m bench --bills 10000 --vendors 500 --pos 1000 --mode all.

Uses the configured DATABASE_URL; results are meant for docs/benchmarks.md, not for assertions.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any, TextIO

from bench import fleet, lanes, memory, scenarios, table
from bench.baseline import naive_sync
from bench.many import run_many
from bench.metrics import Phase, measure
from bench.sandbox_proc import SandboxProcess
from bench.tenants import SETUP_STEPS, Tenant, clients_for, connect_tenants, pointed_at, sync_once


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the sync engine against the sandbox (docs/benchmarks.md).",
    )
    p.add_argument("--bills", type=int, default=10_000)
    p.add_argument("--vendors", type=int, help="default 500; lanes mode: bills / 20")
    p.add_argument("--pos", type=int, help="default 1000; lanes mode: bills / 10")
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--no-throttle", action="store_true", help="do not enforce QBO's limits")
    p.add_argument("--changed", type=float, default=0.01, help="fraction changed in steady mode")
    p.add_argument(
        "--mode", choices=["initial", "steady", "many", "all", "memory", "fleet", "lanes"], default="all"
    )
    p.add_argument(
        "--memory-bills", default="10000,100000", help="memory mode: bill volumes, comma-separated"
    )
    p.add_argument(
        "--lanes", default="batch+single,batch", help="lanes mode: QBO_WRITE_LANES settings, comma-separated"
    )
    p.add_argument("--memory-read-every", type=int, default=10, help="memory mode: every nth approved bill")
    p.add_argument("--baseline", action="store_true", default=True)
    p.add_argument("--no-baseline", dest="baseline", action="store_false")
    p.add_argument("--tenants", type=int, default=4, help="organisations in many mode")
    p.add_argument("--many-seconds", type=float, default=60.0)
    p.add_argument("--many-interval", type=float, default=15.0)
    p.add_argument("--many-threads", type=int, default=2)
    p.add_argument("--slow-ms", type=float, default=300.0, help="extra per request, tenant 1")
    fleet = p.add_argument_group("fleet mode: many tenants on real Celery workers (docs/benchmarks.md)")
    fleet.add_argument("--fleet-small", type=int, default=200, help="small organisations")
    fleet.add_argument("--fleet-small-bills", type=int, default=50)
    fleet.add_argument("--fleet-big-bills", type=int, default=10_000, help="the one big organisation")
    fleet.add_argument("--fleet-workers", type=int, default=4, help="celery worker processes")
    fleet.add_argument("--fleet-concurrency", type=int, default=1, help="pool slots per worker (-c)")
    fleet.add_argument("--fleet-interval", type=float, default=60.0, help="schedule and dispatch, seconds")
    fleet.add_argument("--fleet-approvals-per-minute", type=float, default=30.0)
    fleet.add_argument(
        "--fleet-steady-seconds", type=float, default=300.0, help="approving after the backfill"
    )
    fleet.add_argument("--fleet-max-seconds", type=float, default=900.0, help="the run stops here")
    return p


def main(argv: list[str] | None = None, stdout: TextIO | None = None) -> None:
    Bench(stdout or sys.stdout).handle(**vars(parser().parse_args(argv)))


class Bench:
    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout

    def write(self, text: str) -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")

    def handle(self, *args: Any, **o: Any) -> None:
        logging.getLogger("connector.http").setLevel(logging.WARNING)  # one line per request otherwise
        if o["mode"] == "lanes":
            self._lanes(o)
            return
        o["vendors"] = 500 if o["vendors"] is None else o["vendors"]
        o["pos"] = 1_000 if o["pos"] is None else o["pos"]
        if o["mode"] == "memory":
            self.write(memory.title(o["memory_read_every"]) + "\n" + memory.HEADER + "\n")
            for bills in (int(n) for n in o["memory_bills"].split(",")):
                result = memory.memory_pass(bills, o["vendors"], o["pos"], o["memory_read_every"])
                self.write(memory.line(result) + "\n")
                self.stdout.flush()
            return
        if o["mode"] == "fleet":
            self.write(fleet.report(fleet.run_fleet(_fleet_options(o))))
            return
        phases: list[Phase] = []
        if o["mode"] in ("initial", "steady", "all"):
            phases += self._single(o)
        self.write(table.render(phases) if phases else "")
        for engine, naive in _pairs(phases):
            self.write(table.ratio(engine, naive))
        if len(phases) >= 2 and phases[0].name.startswith("engine setup"):
            self.write(table.combined(phases[0], phases[1]))
        if o["mode"] in ("many", "all"):
            self._many(o)

    # ---- the write lanes against QuickBooks' limits alone, in simulated time -------------------

    def _lanes(self, o: dict[str, Any]) -> None:
        bills = o["bills"]
        vendors = bills // 20 if o["vendors"] is None else o["vendors"]
        pos = bills // 10 if o["pos"] is None else o["pos"]
        throttle = not o["no_throttle"]
        self.write(lanes.title(bills, vendors, pos, o["latency_ms"], throttle) + "\n" + lanes.HEADER)
        for setting in o["lanes"].split(","):
            result = lanes.lanes_pass(setting.strip(), bills, vendors, pos, o["latency_ms"] / 1000, throttle)
            self.write(lanes.line(result))
            self.stdout.flush()

    # ---- one organisation: initial, steady-state and idle polls, and the naive baseline ------

    def _single(self, o: dict[str, Any]) -> list[Phase]:
        tenants = 2 if o["baseline"] else 1  # tenant 2 (its own realm) is the naive script's
        sandbox = SandboxProcess.start(bills=o["bills"], vendors=o["vendors"], pos=o["pos"], tenants=tenants)
        try:
            sandbox.faults(latency_ms=o["latency_ms"], throttle=not o["no_throttle"])
            with pointed_at(sandbox):
                engine, *naive = connect_tenants(sandbox, "single")
                return self._single_phases(sandbox, engine, naive[0] if naive else None, o)
        finally:
            sandbox.stop()

    def _single_phases(
        self, sandbox: SandboxProcess, engine: Tenant, naive: Tenant | None, o: dict[str, Any]
    ) -> list[Phase]:
        phases = [_setup(sandbox, engine, "engine setup (ref+vendors+POs)")]
        if naive is not None:
            _setup(sandbox, naive, "naive setup")
        phases.append(_bills_step(sandbox, engine, "engine initial bills"))
        naive_started = time.time()
        if naive is not None:
            phases.append(_naive(sandbox, naive, None, "naive initial bills"))
        self.write(f"initial done: {phases[1].extra}")
        if o["mode"] == "initial":
            return phases
        phases.append(
            scenarios.poll(sandbox, engine, o["changed"], f"engine poll {o['changed']:.0%} changed")
        )
        if naive is not None:
            scenarios.change_bills(sandbox, naive, o["changed"], naive=True)
            since = _aware(naive_started)
            phases.append(_naive(sandbox, naive, since, f"naive poll {o['changed']:.0%} changed"))
        phases.append(scenarios.poll(sandbox, engine, 0.0, "engine poll unchanged"))
        return phases

    # ---- many organisations on one worker ----------------------------------------------------

    def _many(self, o: dict[str, Any]) -> None:
        per = max(1, o["bills"] // o["tenants"])
        sandbox = SandboxProcess.start(
            bills=per, vendors=max(5, o["vendors"] // o["tenants"]), pos=max(1, o["pos"] // o["tenants"]),
            tenants=o["tenants"],
        )  # fmt: skip
        try:
            sandbox.faults(latency_ms=o["latency_ms"], throttle=not o["no_throttle"])
            with pointed_at(sandbox):
                tenants = connect_tenants(sandbox, "many")
                for tenant in tenants:
                    sync_once(tenant)  # the initial sync is not what this mode measures
                stats = run_many(
                    tenants,
                    duration_s=o["many_seconds"],
                    interval_s=o["many_interval"],
                    threads=o["many_threads"],
                    slow_ms=o["slow_ms"],
                )
        finally:
            sandbox.stop()
        self.write(_many_table(stats, o))


def _setup(sandbox: SandboxProcess, tenant: Tenant, name: str) -> Phase:
    with measure(name, sandbox, [tenant.realm_id], [tenant.domain]) as phase:
        run = sync_once(tenant, steps=SETUP_STEPS)
    phase.extra.update(status=run.status, counts=run.counts.get("by_type"))
    return phase


def _bills_step(sandbox: SandboxProcess, tenant: Tenant, name: str) -> Phase:
    with measure(name, sandbox, [tenant.realm_id], [tenant.domain]) as phase:
        run = sync_once(tenant, steps=("bills",))
    return scenarios.finish(phase, run)


def _naive(sandbox: SandboxProcess, tenant: Tenant, since: Any, name: str) -> Phase:
    procurify, qbo = clients_for(tenant)
    with measure(name, sandbox, [tenant.realm_id], [tenant.domain]) as phase:
        counts = naive_sync(tenant.organisation, procurify, qbo, since)
    phase.bills = counts["written"]
    phase.extra.update(counts)
    return phase


def _fleet_options(o: dict[str, Any]) -> fleet.FleetOptions:
    return fleet.FleetOptions(
        small=o["fleet_small"],
        small_bills=o["fleet_small_bills"],
        big_bills=o["fleet_big_bills"],
        workers=o["fleet_workers"],
        concurrency=o["fleet_concurrency"],
        interval_s=o["fleet_interval"],
        latency_ms=o["latency_ms"],
        approvals_per_minute=o["fleet_approvals_per_minute"],
        steady_s=o["fleet_steady_seconds"],
        max_s=o["fleet_max_seconds"],
    )


def _pairs(phases: list[Phase]) -> list[tuple[Phase, Phase]]:
    by_name = {p.name: p for p in phases}
    out = []
    for phase in phases:
        twin = by_name.get(phase.name.replace("engine", "naive"))
        if phase.name.startswith("engine") and twin is not None:
            out.append((phase, twin))
    return out


def _aware(epoch: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, tz=UTC)


def _many_table(stats: list[Any], o: dict[str, Any]) -> str:
    lines = [
        f"many tenants: {len(stats)} organisations, 1 worker with {o['many_threads']} threads, "
        f"due every {o['many_interval']:.0f}s for {o['many_seconds']:.0f}s; "
        f"tenant 1 +{o['slow_ms']:.0f} ms/request",
        f"{'tenant':<18}{'slow':>5}{'runs':>6}{'failed':>7}"
        f"{'max start lag s':>17}{'mean run s':>12}{'schedule met':>14}",
    ]
    for s in stats:
        lag = max(s.lags, default=0.0)
        mean = sum(s.durations) / len(s.durations) if s.durations else 0.0
        met = "yes" if lag <= o["many_interval"] and not s.failed else "no"
        lines.append(
            f"{s.name:<18}{'yes' if s.slow else '':>5}{s.runs:>6}{s.failed:>7}"
            f"{lag:>17.1f}{mean:>12.1f}{met:>14}"
        )
    return "\n".join(lines)
