"""The bills list answers the keyset poll's query from an index (issue 16): the same answer as the full
path, at the cost of one page, and never stale after a bill is added, edited, removed or re-stamped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sandbox_support import Procurify

from sandbox import Sandbox
from sandbox import procurify_render as render

PATH = "/api/v3/ap/bills/"
ORDER = "last_modified_datetime,id"


def _both(procurify: Procurify, **params) -> tuple[dict, dict]:
    indexed = procurify.get(PATH, order_by=ORDER, **params).json()
    full = procurify.get(PATH, order_by=ORDER, unindexed="1", **params).json()  # unknown: the full path
    return indexed, full


def _same(indexed: dict, full: dict) -> None:
    assert indexed["data"] == full["data"]
    keys = ("count", "num_pages", "current_page", "page_size")
    assert {k: indexed["metadata"]["pagination"][k] for k in keys} == {
        k: full["metadata"]["pagination"][k] for k in keys
    }
    summary, expected = indexed["metadata"]["summary"], full["metadata"]["summary"]
    assert summary["has_multiple_currency"] == expected["has_multiple_currency"]
    assert summary["total_cost"] == pytest.approx(expected["total_cost"], abs=0.005)


def _window(sb: Sandbox) -> dict:
    bills = sorted(sb.procurify.site("northwind").bills.values(), key=lambda b: (b["last_modified"], b["id"]))
    return {
        "last_modified_datetime_0": bills[2]["last_modified"].isoformat(),
        "last_modified_datetime_1": bills[-3]["last_modified"].isoformat(),
    }


def test_the_indexed_answer_is_the_full_answer_page_by_page(sb: Sandbox, procurify: Procurify) -> None:
    window = _window(sb)
    for page in (1, 2, 3):
        _same(*_both(procurify, page=page, page_size=4, **window))
    assert procurify.get(PATH, order_by=ORDER, page=99, page_size=4, **window).status_code == 404


def test_a_page_renders_only_its_own_rows(sb: Sandbox, procurify: Procurify, monkeypatch) -> None:
    rendered: list[int] = []
    real = render.bill_row
    monkeypatch.setattr(
        render, "bill_row", lambda site, bill, today: rendered.append(1) or real(site, bill, today)
    )

    procurify.get(PATH, order_by=ORDER, page_size=3)

    assert len(rendered) == 3 < len(sb.procurify.site("northwind").bills)


def test_the_index_follows_edits_removals_and_raw_changes(sb: Sandbox, procurify: Procurify) -> None:
    window = {"last_modified_datetime_0": "2000-01-01T00:00:00Z"}
    _same(*_both(procurify, page_size=100, **window))  # the index is built
    site = sb.procurify.site("northwind")
    first = min(site.bills.values(), key=lambda b: (b["last_modified"], b["id"]))

    sb.clock.advance(minutes=5)
    sb.procurify.edit_bill("northwind", first["uuid"], invoice_number="EDITED-1")
    indexed, full = _both(procurify, page_size=100, **window)
    _same(indexed, full)
    assert indexed["data"][-1]["uuid"] == first["uuid"]  # re-stamped: last now

    victim = indexed["data"][0]["uuid"]
    sb.procurify.remove_bill("northwind", victim)
    indexed, full = _both(procurify, page_size=100, **window)
    _same(indexed, full)
    assert victim not in {r["uuid"] for r in indexed["data"]}

    raw = site.bills[indexed["data"][0]["uuid"]]
    raw["last_modified"] = raw["last_modified"] + timedelta(days=400)  # behind the index's back
    indexed, full = _both(procurify, page_size=100, **window)
    _same(indexed, full)
    assert indexed["data"][-1]["uuid"] == raw["uuid"]
