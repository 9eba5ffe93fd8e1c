"""The printed table and the derived ratios (what each column means is in docs/benchmarks.md)."""

from __future__ import annotations

from bench.metrics import Phase

QBO_PER_MINUTE = 500  # §9: per realm; a batch request counts once here and once toward 40/min
QBO_BATCH_ITEMS_PER_MINUTE = 40 * 30  # §7, §9: 40 batch requests/min per realm+app, 30 items each
# A batch counts once toward the 500/min (docs/qbo-facts.md), so single requests can fill the rest.
QBO_COMBINED_ITEMS_PER_MINUTE = QBO_BATCH_ITEMS_PER_MINUTE + (QBO_PER_MINUTE - 40)  # 1,660

COLUMNS = (
    ("phase", "{}"),
    ("bills", "{}"),
    ("wall s", "{:.1f}"),
    ("bills/min", "{:.0f}"),
    ("QBO req", "{}"),
    ("QBO req/min", "{:.0f}"),
    ("of 500/min", "{:.0%}"),
    ("batches", "{}"),
    ("batch items", "{}"),
    ("items/min", "{:.0f}"),
    ("of 1200/min", "{:.0%}"),
    ("429s", "{}"),
    ("metered", "{}"),
    ("QBO wr", "{}"),
    ("hold retries", "{}"),
    ("Proc req/bill", "{:.2f}"),
    ("CPU ms/bill", "{:.1f}"),
    ("SQL/bill", "{:.1f}"),
    ("peak RSS MB", "{:.0f}"),
    ("RSS growth MB", "{:.1f}"),
)


def row(phase: Phase) -> list[str]:
    per = max(phase.bills, 1)
    minutes = max(phase.wall_s, 1e-9) / 60
    r = phase.requests
    values = (
        phase.name,
        phase.bills,
        phase.wall_s,
        phase.bills / minutes,
        r.qbo_total,
        r.qbo_total / minutes,
        r.qbo_total / minutes / QBO_PER_MINUTE,
        r.qbo_batches,
        r.batch_items,
        r.batch_items / minutes,
        r.batch_items / minutes / QBO_BATCH_ITEMS_PER_MINUTE,
        r.qbo_throttled,
        r.qbo_metered,
        r.qbo_objects_written,
        phase.hold_retries,
        r.procurify / per,
        phase.cpu_s * 1000 / per,
        phase.queries / per,
        phase.rss_peak_mb,
        phase.rss_growth_mb,
    )
    return [fmt.format(v) for (_, fmt), v in zip(COLUMNS, values, strict=True)]


def render(phases: list[Phase]) -> str:
    """An aligned plain-text table; the same text goes into docs/benchmarks.md."""
    rows = [[name for name, _ in COLUMNS]] + [row(p) for p in phases]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ratio(engine: Phase, naive: Phase) -> str:
    """Engine vs naive on the same workload (speed-up in bills/min and in wall time)."""
    if not engine.bills or not naive.bills or not naive.wall_s:
        return f"{engine.name} vs {naive.name}: n/a (no bills written)"
    e_rate, n_rate = engine.bills / engine.wall_s, naive.bills / naive.wall_s
    return (
        f"{engine.name} vs {naive.name}: {e_rate / n_rate:.2f}x bills/min, "
        f"{engine.requests.qbo_total / engine.bills:.2f} vs {naive.requests.qbo_total / naive.bills:.2f} "
        f"QBO requests per bill"
    )


def combined(setup: Phase, bills: Phase) -> str:
    """The whole first sync (vendors + purchase orders + bills) against the combined ceiling."""
    wall = setup.wall_s + bills.wall_s
    minutes = max(wall, 1e-9) / 60
    items = setup.requests.qbo_objects_written + bills.requests.qbo_objects_written
    metered = setup.requests.qbo_metered + bills.requests.qbo_metered
    throttled = setup.requests.qbo_throttled + bills.requests.qbo_throttled
    rate = items / minutes
    lines = [
        "whole first sync (vendors + purchase orders + bills)",
        f"  objects written to QBO      {items}  ({setup.requests.qbo_objects_written} in setup, "
        f"{bills.requests.qbo_objects_written} bills)",
        f"  wall                        {wall:.1f} s",
        f"  items/min                   {rate:.0f}",
        f"  of combined ceiling 1660    {rate / QBO_COMBINED_ITEMS_PER_MINUTE:.0%}",
        f"  of batch lane 1200          {rate / QBO_BATCH_ITEMS_PER_MINUTE:.0%}",
        f"  429s                        {throttled}",
        f"  metered calls               {metered}  ({metered / max(bills.bills, 1):.3f} per bill)",
    ]
    return "\n".join(lines) + "\n"
