"""QBO OAuth 2.0: authorize page, code exchange, rotation, expiry, revoke (reference §1)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sandbox_support import QBO, REDIRECT, basic, connect, exchange_code

from sandbox import Sandbox


def _authorize_params(sb: Sandbox) -> dict[str, str]:
    return {
        "client_id": sb.credentials["qbo"]["client_id"],
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": REDIRECT,
        "state": "abc123",
    }


def test_it_shows_an_authorize_page_with_approve_and_deny(sb: Sandbox, client) -> None:
    response = client.get(sb.qbo_urls()["authorize_url"], params=_authorize_params(sb))
    assert response.status_code == 200
    assert 'id="approve"' in response.text and 'id="deny"' in response.text
    assert "Northwind Industrial Supply" in response.text


def test_it_redirects_back_with_code_state_and_realm_on_approve(sb: Sandbox, client) -> None:
    form = {**_authorize_params(sb), "decision": "approve", "realm_id": sb.realm_ids[0]}
    response = client.post(sb.qbo_urls()["authorize_url"], data=form)
    assert response.status_code == 302
    location = response.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT)
    assert query["state"] == ["abc123"] and query["realmId"] == [sb.realm_ids[0]] and query["code"][0]


def test_it_redirects_with_access_denied_on_deny(sb: Sandbox, client) -> None:
    form = {**_authorize_params(sb), "decision": "deny"}
    response = client.post(sb.qbo_urls()["authorize_url"], data=form)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["abc123"]}


def test_it_rejects_an_unknown_client_on_the_authorize_page(sb: Sandbox, client) -> None:
    params = {**_authorize_params(sb), "client_id": "someone-else"}
    assert client.get(sb.qbo_urls()["authorize_url"], params=params).status_code == 400


def test_it_exchanges_a_code_for_one_hour_tokens(sb: Sandbox, client) -> None:
    response = exchange_code(sb, client, sb.realm_ids[0])
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8726400
    assert body["access_token"] and body["refresh_token"]


def test_it_refuses_a_reused_authorization_code(sb: Sandbox, client) -> None:
    callback = sb.qbo.approve_for_tests(sb.credentials["qbo"]["client_id"], REDIRECT, "s", sb.realm_ids[0])
    code = parse_qs(urlsplit(callback).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert client.post(sb.qbo_urls()["token_url"], data=form, headers=basic(sb)).status_code == 200
    again = client.post(sb.qbo_urls()["token_url"], data=form, headers=basic(sb))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_it_rejects_bad_client_credentials_with_invalid_client(sb: Sandbox, client) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": "x"}
    headers = {"Authorization": "Basic " + "bm9wZTpub3Bl"}
    response = client.post(sb.qbo_urls()["token_url"], data=form, headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def _refresh(sb: Sandbox, client, token: str):
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return client.post(sb.qbo_urls()["token_url"], data=form, headers=basic(sb))


def test_it_rotates_refresh_tokens_and_kills_the_superseded_one(sb: Sandbox, qbo: QBO, client) -> None:
    first = _refresh(sb, client, qbo.refresh)
    assert first.status_code == 200
    new_refresh = first.json()["refresh_token"]
    assert new_refresh != qbo.refresh
    stale = _refresh(sb, client, qbo.refresh)
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"
    assert _refresh(sb, client, new_refresh).status_code == 200


def test_it_expires_access_tokens_after_an_hour_with_a_3200_fault(sb: Sandbox, qbo: QBO) -> None:
    sb.clock.advance(seconds=3599)
    assert qbo.get(f"companyinfo/{qbo.realm_id}").status_code == 200
    sb.clock.advance(seconds=1)
    response = qbo.get(f"companyinfo/{qbo.realm_id}")
    assert response.status_code == 401
    error = response.json()["fault"]["error"][0]
    assert error["code"] == "3200" and "AuthenticationFailed" in error["message"]
    assert response.json()["fault"]["type"] == "AUTHENTICATION"


def test_it_refreshes_after_100_days_idle_only_within_the_window(sb: Sandbox, qbo: QBO, client) -> None:
    sb.clock.advance(seconds=8726400)
    assert _refresh(sb, client, qbo.refresh).json()["error"] == "invalid_grant"


def test_it_limits_an_access_token_to_its_own_realm(client) -> None:
    two = Sandbox.create(seed="empty", tenants=2)
    with two.client() as c:
        conn = connect(two, c, two.realm_ids[0])
        other = QBO(two, c, two.realm_ids[1], conn.access, conn.refresh)
        assert conn.get("preferences").status_code == 200
        response = other.get("preferences")
    assert response.status_code == 403
    assert response.json()["fault"]["error"][0]["code"] == "3100"


def test_it_revokes_a_connection(sb: Sandbox, qbo: QBO, client) -> None:
    response = client.post(sb.qbo_urls()["revoke_url"], json={"token": qbo.refresh}, headers=basic(sb))
    assert response.status_code == 200
    assert _refresh(sb, client, qbo.refresh).json()["error"] == "invalid_grant"
    assert qbo.get("preferences").status_code == 401


def test_it_expires_or_revokes_every_token_of_a_realm_on_demand(sb: Sandbox, qbo: QBO, client) -> None:
    sb.qbo.expire_tokens(qbo.realm_id)
    assert qbo.get("preferences").status_code == 401
    refreshed = _refresh(sb, client, qbo.refresh)
    assert refreshed.status_code == 200  # expiry is not revocation
    sb.qbo.revoke_tokens(qbo.realm_id)
    assert _refresh(sb, client, refreshed.json()["refresh_token"]).json()["error"] == "invalid_grant"
