"""The shape of the client factory the entry points hand to the engine and the services.

Celery tasks, management commands and the views that start work build one factory
(``connector.clients.CLIENTS``) and pass it down, so nothing below them builds clients itself or
imports connector/clients.py. Tests pass the same factory (pointed at the sandbox through
connector/seam.py), or ``FixedClients`` around clients they built themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connector.procurify.client import ProcurifyClient
from connector.qbo.client import QBOClient
from tenants.models import Organisation


class ClientFactory(Protocol):
    def procurify(self, organisation: Organisation) -> ProcurifyClient: ...

    def qbo(self, organisation: Organisation) -> QBOClient: ...


@dataclass(frozen=True)
class FixedClients:
    """Clients already built, handed out as they are whatever the organisation (tests, benchmarks)."""

    procurify_client: ProcurifyClient
    qbo_client: QBOClient

    def procurify(self, organisation: Organisation) -> ProcurifyClient:
        return self.procurify_client

    def qbo(self, organisation: Organisation) -> QBOClient:
        return self.qbo_client
