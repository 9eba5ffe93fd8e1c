"""Helpers shared by the sandbox tests (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox import Sandbox

FIXED_NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


AUDIENCE = "https://api.procurify.com/"


REDIRECT = "https://app.example/callback"


def procurify_token(client: httpx.Client, sb: Sandbox, domain: str = "northwind") -> httpx.Response:
    creds = sb.credentials["procurify"][domain]
    return client.post(
        f"{sb.procurify_site_url(domain)}/oauth/token",
        json={**creds, "audience": AUDIENCE, "grant_type": "client_credentials"},
    )


@dataclass
class Procurify:
    client: httpx.Client
    base: str
    token: str

    def get(self, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "X-Procurify-Client": "api"}
        return self.client.get(f"{self.base}{path}", params=params, headers=headers)


def basic(sb: Sandbox) -> dict[str, str]:
    creds = sb.credentials["qbo"]
    raw = f"{creds['client_id']}:{creds['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode(), "Accept": "application/json"}


def exchange_code(sb: Sandbox, client: httpx.Client, realm_id: str) -> httpx.Response:
    callback = sb.qbo.approve_for_tests(sb.credentials["qbo"]["client_id"], REDIRECT, "st4te", realm_id)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    return client.post(sb.qbo_urls()["token_url"], data=form, headers=basic(sb))


@dataclass
class QBO:
    sb: Sandbox
    client: httpx.Client
    realm_id: str
    access: str
    refresh: str

    @property
    def base(self) -> str:
        return f"{self.sb.qbo_urls()['api_base']}/v3/company/{self.realm_id}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}", "Accept": "application/json"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(
            f"{self.base}/{path}", params={"minorversion": 75, **params}, headers=self.headers()
        )

    def post(self, path: str, body: Any, **params: Any) -> httpx.Response:
        params = {"minorversion": 75, **params}
        return self.client.post(f"{self.base}/{path}", json=body, params=params, headers=self.headers())

    def query(self, text: str) -> httpx.Response:
        return self.get("query", query=text)

    def ok(self, path: str, body: Any, **params: Any) -> dict[str, Any]:
        response = self.post(path, body, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def one(self, entity: str, where: str) -> dict[str, Any]:
        rows = self.query(f"SELECT * FROM {entity} WHERE {where}").json()["QueryResponse"].get(entity, [])
        assert len(rows) == 1, rows
        return rows[0]


def connect(sb: Sandbox, client: httpx.Client, realm_id: str | None = None) -> QBO:
    realm_id = realm_id or sb.realm_ids[0]
    tokens = exchange_code(sb, client, realm_id).json()
    return QBO(sb, client, realm_id, tokens["access_token"], tokens["refresh_token"])


def fault_code(response: httpx.Response) -> str:
    body = response.json()
    fault = body.get("Fault") or body.get("fault")
    errors = fault.get("Error") or fault.get("error")
    return errors[0]["code"]


def expense_line(account_id: str, amount: float, description: str = "Item") -> dict[str, Any]:
    return {
        "Amount": amount,
        "Description": description,
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account_id}},
    }
