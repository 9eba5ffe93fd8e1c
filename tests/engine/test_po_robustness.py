"""One bad purchase order is held with a reason; it never fails the run for every other record."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector.models import HeldRecord, SyncRun
from sandbox import Sandbox
from tests.engine.conftest import build_harness

Rewrite = Callable[[dict[str, Any]], dict[str, Any]] | bytes


class RewritingTransport(httpx.BaseTransport):
    """The sandbox, except for the paths ending in a key of ``rewrites`` (raw bytes or a JSON edit)."""

    def __init__(self, inner: httpx.BaseTransport, rewrites: dict[str, Rewrite]) -> None:
        self.inner, self.rewrites = inner, rewrites

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        rewrite = next((r for suffix, r in self.rewrites.items() if request.url.path.endswith(suffix)), None)
        response = self.inner.handle_request(request)
        if rewrite is None:
            return response
        response.read()
        content = rewrite if isinstance(rewrite, bytes) else json.dumps(rewrite(response.json())).encode()
        headers = {"Content-Type": "application/json"}
        return httpx.Response(200, content=content, headers=headers, request=request)


@pytest.fixture
def rewrites() -> dict[str, Rewrite]:
    return {}


@pytest.fixture
def wired(sb: Sandbox, rewrites: dict[str, Rewrite]):
    inner = sb.transport

    sb.transport = lambda *a, **k: RewritingTransport(inner(*a, **k), rewrites)  # type: ignore[method-assign]
    h = build_harness(sb)
    yield h
    h.http.close()


def _a_po(sb: Sandbox) -> dict[str, Any]:
    site = sb.procurify.site("northwind")
    return next(po for po in site.pos.values() if po["state"] == 0)


def _huge_line(quantity: str, price: str) -> Rewrite:
    def edit(body: dict[str, Any]) -> dict[str, Any]:
        item = body["data"]["order_items"][0]
        for key in ("total_cost", "approved_quantity", "approved_price"):
            item[key] = None
        item["quantity"], item["price"] = quantity, price
        return body

    return edit


def _assert_held_and_others_synced(harness, org, uuid: str, reason_codes: set[str]) -> HeldRecord:
    run = harness.run(org)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    held = HeldRecord.objects.get(organisation=org, object_type="purchase_order", procurify_id=uuid)
    assert held.reason_code in reason_codes and held.state == "held"
    assert run.counts["by_type"]["purchase_order"]["created"] >= 1
    assert run.counts["by_type"]["bill"]["created"] > 10
    return held


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b'{"data": {"id": 1, "uu', b"[]"])
def test_it_holds_a_purchase_order_whose_detail_is_not_json(sb, wired, rewrites, org_a, body):
    po = _a_po(sb)
    rewrites[f"/purchase_orders/{po['uuid']}/"] = body

    held = _assert_held_and_others_synced(wired, org_a, po["uuid"], {"sync_failed"})

    assert "Procurify" in held.message


@pytest.mark.parametrize(
    ("quantity", "price"),
    [
        ("900000000000000", "900000000000000"),  # 8.1e29: rounding to cents overflows Decimal
        ("100000000", "100000000"),  # 1e16: rounds fine, but is not an amount of money
    ],
)
def test_it_holds_a_purchase_order_whose_line_total_is_not_money(sb, wired, rewrites, org_a, quantity, price):
    po = _a_po(sb)
    rewrites[f"/purchase_orders/{po['uuid']}/"] = _huge_line(quantity, price)

    held = _assert_held_and_others_synced(wired, org_a, po["uuid"], {"malformed_record"})

    assert "more than any amount of money" in held.message
    assert not [p for p in wired.sb.qbo.objects(wired.realm_id, "PurchaseOrder") if po["uuid"] in str(p)]
