"""Smoke test of `python -m bench --mode lanes` on a tiny workload: one table line per lanes setting.

No timing assertions: the figures are simulated time, and what they should be is docs/benchmarks.md's.
"""

from __future__ import annotations

from io import StringIO

import pytest

from bench.cli import main
from bench.lanes import COLUMNS


@pytest.mark.django_db
def test_lanes_mode_prints_a_line_per_setting_with_no_429() -> None:
    out = StringIO()
    main(["--mode", "lanes", "--bills", "60", "--lanes", "batch+single,batch"], stdout=out)
    lines = out.getvalue().splitlines()

    assert lines[0].startswith("lanes: whole first sync of 3 vendors, 6 POs, 60 bills")
    names = [name for name, _ in COLUMNS]
    rows = {line.split()[0]: dict(zip(names, line.split(), strict=True)) for line in lines[2:]}
    assert set(rows) == {"batch+single", "batch"}
    for row in rows.values():
        assert int(row["objects"]) > int(row["bill items"]) > 0  # vendors and POs came first
        assert row["429s"] == "0"
        assert float(row["metered/bill"]) > 0
