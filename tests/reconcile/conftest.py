"""Fixtures: an organisation connected to the distributor sandbox, every request logged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from recon_support import RequestLog
from sandbox_wiring import connect, point_settings_at

from connector.clients import use_transport
from sandbox import Sandbox
from tenants.models import Organisation


def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox.create(seed="distributor")


@pytest.fixture
def log(sb: Sandbox) -> RequestLog:
    return RequestLog(sb.transport())


@pytest.fixture
def wired(settings: Any, sb: Sandbox, log: RequestLog, org_a: Organisation, owner: Any) -> Iterator[str]:
    """org_a connected to both sides of the sandbox; yields the QBO realm id."""
    point_settings_at(sb)
    with use_transport(log, clock=sb.clock.now, sleep=no_sleep):
        yield connect(org_a, owner.user, sb)


@pytest.fixture(autouse=True)
def _quiet_http_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="connector.http")
