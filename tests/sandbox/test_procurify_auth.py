"""Procurify client-credentials tokens (reference §1, §6.1)."""

from __future__ import annotations

from sandbox_support import AUDIENCE, Procurify, procurify_token

from sandbox import Sandbox


def test_it_issues_24_hour_bearer_tokens_without_refresh_token(sb: Sandbox, client) -> None:
    response = procurify_token(client, sb)
    body = response.json()
    assert response.status_code == 200
    assert body["expires_in"] == 86400
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert body["scope"].startswith("urn:procurify-api:domain:northwind urn:procurify-api:email:")


def test_it_rejects_a_wrong_secret_with_401_oauth_error(sb: Sandbox, client) -> None:
    url = f"{sb.procurify_site_url('northwind')}/oauth/token"
    body = {"client_id": "northwind-demo-client", "client_secret": "nope", "audience": AUDIENCE}
    response = client.post(url, json={**body, "grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] in ("access_denied", "invalid_client")
    assert "error_description" in response.json()


def test_it_rejects_a_missing_audience(sb: Sandbox, client) -> None:
    url = f"{sb.procurify_site_url('northwind')}/oauth/token"
    creds = sb.credentials["procurify"]["northwind"]
    response = client.post(url, json={**creds, "grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_it_accepts_the_token_until_it_expires_after_a_day(sb: Sandbox, procurify: Procurify) -> None:
    sb.clock.advance(seconds=86399)
    assert procurify.get("/api/v3/users/me/").status_code == 200
    sb.clock.advance(seconds=1)
    response = procurify.get("/api/v3/users/me/")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_it_rejects_api_calls_without_a_bearer_token(sb: Sandbox, client) -> None:
    response = client.get(f"{sb.procurify_site_url('northwind')}/api/v3/vendors/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_it_rejects_a_token_from_another_domain(client) -> None:
    two = Sandbox.create(seed="empty", tenants=2)
    with two.client() as c:
        token = procurify_token(c, two, "empty").json()["access_token"]
        response = c.get(
            f"{two.procurify_site_url('empty2')}/api/v3/users/me/",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401


def test_it_expires_all_tokens_of_a_site_on_demand(sb: Sandbox, procurify: Procurify) -> None:
    assert sb.procurify.expire_tokens("northwind") == 1
    assert procurify.get("/api/v3/users/me/").status_code == 401


def test_it_answers_users_me_with_the_api_app_owner(sb: Sandbox, procurify: Procurify) -> None:
    body = procurify.get("/api/v3/users/me/").json()
    assert body["data"]["email"] == sb.procurify.site("northwind").email
    assert "metadata" in body
