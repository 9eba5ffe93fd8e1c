"""Fixtures for the fault-injection suite."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def quiet_http_logs(caplog) -> None:
    # Hundreds of requests per scenario; keep failure output readable.
    caplog.set_level("WARNING", logger="connector.http")
