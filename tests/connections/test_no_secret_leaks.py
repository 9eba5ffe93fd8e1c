"""Secrets stay out of logs while connecting, refreshing and testing (pages and mail: other files)."""

from __future__ import annotations

import logging

import pytest
from connections_helpers import Wired, connect_qbo

from connector.oauth import ensure_fresh_qbo_token
from tenants.models import Connection, Provider


def test_it_keeps_tokens_and_secrets_out_of_logs_when_everything_runs(
    org_a, owner, wired: Wired, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection = connect_qbo(wired, owner.client, org_a)
    ensure_fresh_qbo_token(connection.pk, force=True)
    Connection.objects.create(
        organisation=org_a,
        provider=Provider.PROCURIFY,
        site_url=wired.site_url,
        client_id=wired.procurify_client_id,
        client_secret=wired.procurify_client_secret,
    )
    owner.client.post(f"/o/{org_a.public_id}/connections/procurify/test/")
    row = Connection.objects.get(pk=connection.pk)
    procurify = Connection.objects.get(organisation=org_a, provider=Provider.PROCURIFY)
    secrets = [
        row.access_token,
        row.refresh_token,
        connection.refresh_token,
        wired.sb.credentials["qbo"]["client_secret"],
        wired.procurify_client_secret,
        procurify.access_token,
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "http response" in logged  # the HTTP seam did log, just not the secrets
    for secret in secrets:
        assert secret and secret not in logged
