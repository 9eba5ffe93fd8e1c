from __future__ import annotations

import logging

from django.test import Client

from config.logging import RedactSecretsFilter, redact


def test_it_refuses_a_form_post_without_a_csrf_token(org_a, owner) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    response = client.post(f"/o/{org_a.public_id}/settings/", {"name": "Changed", "time_zone": "UTC"})
    assert response.status_code == 403
    org_a.refresh_from_db()
    assert org_a.name == "Northwind Distribution"


def test_it_sends_security_headers(db, client) -> None:
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    # issue 12 (more in test_headers.py): a CSP without inline script, and no powerful features.
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]


def test_it_marks_the_session_cookie_http_only(db, owner) -> None:
    client = Client()
    client.post("/accounts/login/", {"login": owner.user.email, "password": owner.password})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_it_redacts_credentials_in_log_lines() -> None:
    line = (
        "POST /oauth/token client_secret=abc123 Authorization: Bearer eyJhbGciOi.x.y "
        '{"access_token": "tok-1", "refresh_token": "ref-2"} code=xyz&state=s'
    )
    cleaned = redact(line)
    for secret in ("abc123", "eyJhbGciOi", "tok-1", "ref-2", "xyz"):
        assert secret not in cleaned
    # The QuickBooks callback's state is masked too (issue 12); ordinary words stay readable.
    assert "state=s" not in cleaned and "state=[redacted]" in cleaned
    assert redact("run 42 status_code=200 estate=x") == "run 42 status_code=200 estate=x"


def test_it_redacts_through_the_logging_filter() -> None:
    logger = logging.getLogger("tests.redaction")
    handler_filter = RedactSecretsFilter()
    record = logger.makeRecord("x", logging.INFO, __file__, 1, "token=%s", ("sekrit",), None)
    handler_filter.filter(record)
    assert "sekrit" not in record.getMessage()
