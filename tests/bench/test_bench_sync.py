"""Smoke test of `python -m bench` on a tiny workload: the table's shape and its invariants.

No timing assertions: this runs on shared CI machines. transaction=True because the many-tenant
mode runs pipelines on worker threads, which only see committed rows.
"""

from __future__ import annotations

from io import StringIO

import pytest

from bench.cli import main
from bench.table import COLUMNS


def _rows(output: str) -> dict[str, dict[str, str]]:
    header = [name for name, _ in COLUMNS]
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("phase "))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip() or " vs " in line or line.startswith("many tenants"):
            break
        cells = [c for c in line.split("  ") if c.strip()]
        values = [c.strip() for c in cells]
        assert len(values) == len(header), line
        rows[values[0]] = dict(zip(header, values, strict=True))
    return rows


@pytest.mark.django_db(transaction=True)
def test_it_prints_the_table_and_an_unchanged_poll_writes_nothing_new() -> None:
    out = StringIO()
    main(
        [
            "--bills", "20", "--vendors", "5", "--pos", "3", "--latency-ms", "0", "--mode", "all",
            "--tenants", "2", "--many-seconds", "3", "--many-interval", "5", "--slow-ms", "20",
        ],
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    rows = _rows(text)

    assert set(rows) == {
        "engine setup (ref+vendors+POs)",
        "engine initial bills",
        "naive initial bills",
        "engine poll 1% changed",
        "naive poll 1% changed",
        "engine poll unchanged",
    }
    assert int(rows["engine initial bills"]["bills"]) > 0
    assert int(rows["naive initial bills"]["bills"]) > 0
    # Unchanged records cost no QBO write; the only writes are retries of held (refused) bills.
    idle = rows["engine poll unchanged"]
    assert idle["bills"] == "0"
    assert idle["QBO wr"] == idle["hold retries"]
    assert idle["metered"] == "0"  # an unchanged scheduled poll reads nothing QuickBooks meters
    assert "whole first sync" in text and "of combined ceiling 1660" in text
    assert int(rows["engine poll 1% changed"]["bills"]) == 1
    assert "engine initial bills vs naive initial bills:" in text
    many = text[text.index("many tenants:") :].splitlines()
    assert len(many) == 2 + 2  # title, header, one line per organisation
    assert all(line.split()[-1] == "yes" for line in many[2:])  # every schedule met
