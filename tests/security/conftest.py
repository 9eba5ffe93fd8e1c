"""Fixtures for the security tests: fast hashing, and organisations wired to the in-process sandbox
through the production seams (Connection rows + connector.clients.use_transport)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from security_support import NOW, MutatingTransport, TwoTenants, Wired, connect, point_settings_at

from connector.clients import use_transport
from tenants.models import Organisation


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The shared fixtures create several users per test; the production hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def distributor(db: None, settings: Any, org_a: Organisation, owner: Any) -> Iterator[Wired]:
    """Organisation A connected to the distributor seed (Procurify 'northwind', its QBO company)."""
    from sandbox import Sandbox

    sb = Sandbox.create(seed="distributor", now=NOW)
    point_settings_at(sb, settings)
    transport = MutatingTransport(sb.transport())
    with use_transport(transport, clock=sb.clock.now):
        realm_id = sb.realm_ids[0]
        connect(sb, org_a, owner.user, "northwind", realm_id)
        yield Wired(sb, transport, org_a, "northwind", realm_id)


@pytest.fixture
def two_tenants(
    db: None, settings: Any, org_a: Organisation, org_b: Organisation, owner: Any, outsider: Any
) -> Iterator[TwoTenants]:
    """A and B connected to two different sandbox tenants (own Procurify site, own QBO realm)."""
    from sandbox import Sandbox

    sb = Sandbox.create(seed="large", tenants=2, n_bills=20, n_vendors=10, n_pos=5, now=NOW)
    point_settings_at(sb, settings)
    transport = MutatingTransport(sb.transport())
    domains = sorted(sb.credentials["procurify"])
    with use_transport(transport, clock=sb.clock.now):
        connect(sb, org_a, owner.user, domains[0], sb.realm_ids[0])
        connect(sb, org_b, outsider.user, domains[1], sb.realm_ids[1])
        yield TwoTenants(
            sb,
            Wired(sb, transport, org_a, domains[0], sb.realm_ids[0]),
            Wired(sb, transport, org_b, domains[1], sb.realm_ids[1]),
        )
