"""Fixtures for the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_support import (
    FIXED_NOW,
    QBO,
    Procurify,
    connect,
    procurify_token,
)

from sandbox import Sandbox


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox.create(seed="distributor", now=FIXED_NOW)


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with sb.client() as c:
        yield c


@pytest.fixture
def procurify(sb: Sandbox, client: httpx.Client) -> Procurify:
    token = procurify_token(client, sb).json()["access_token"]
    return Procurify(client, sb.procurify_site_url("northwind"), token)


@pytest.fixture
def qbo(sb: Sandbox, client: httpx.Client) -> QBO:
    return connect(sb, client)
