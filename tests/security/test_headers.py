"""Issue 12: browser hardening headers on every kind of response, and templates a strict CSP can run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from config.security_headers import content_security_policy

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER_ATTR = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)
STYLE_ATTR = re.compile(r"<[^>]*\sstyle\s*=", re.I)


def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


def assert_hardened(response: Any, where: str) -> None:
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"], where
    assert csp["script-src"] == ["'self'"], where  # no 'unsafe-inline', no 'unsafe-eval', no nonce
    assert csp["style-src"] == ["'self'"], where
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert response["X-Frame-Options"] == "DENY", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions, where


def _org_routes() -> list[str]:
    routes: list[str] = []

    def walk(patterns: list[Any], prefix: str = "") -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if "<uuid:org_id>" in route:
                    route = route.replace("<slug:kind>", "vendors").replace("<slug:object_type>", "bill")
                    if "<" not in route.replace("<uuid:org_id>", ""):
                        routes.append(route)

    walk(get_resolver().url_patterns)
    return routes


def test_it_hardens_anonymous_pages_errors_and_static_files(db: None, client: Client) -> None:
    for path in ("/", "/accounts/login/", "/accounts/signup/", "/admin/login/", "/healthz", "/no-such-page/"):
        assert_hardened(client.get(path), path)
    assert_hardened(client.get("/static/js/app.js"), "static")
    assert_hardened(
        client.post("/accounts/login/", {"login": "x@example.com", "password": "wrong"}), "login POST"
    )


def test_it_hardens_every_organisation_page(org_a: Any, owner: Any) -> None:
    routes = _org_routes()
    assert len(routes) >= 10, routes
    rendered = 0
    for route in routes:
        path = "/" + route.replace("<uuid:org_id>", str(org_a.public_id))
        response = owner.client.get(path)
        assert response.status_code < 500, path
        assert_hardened(response, path)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            rendered += 1
            body = response.content.decode()
            for pattern in (INLINE_SCRIPT, HANDLER_ATTR, JS_URL, STYLE_ATTR):
                assert not pattern.search(body), f"{path}: {pattern.pattern} matches {pattern.search(body)}"
    assert rendered >= 5


def test_it_lets_forms_post_only_here_and_to_the_quickbooks_consent_page(settings: Any) -> None:
    settings.QBO_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
    form_action = _directives(content_security_policy())["form-action"]
    assert form_action == ["'self'", "https://appcenter.intuit.com"]


def test_it_keeps_the_page_templates_free_of_inline_script_and_handlers() -> None:
    # E-mail templates are not served to browsers (and mail clients need inline styles).
    # E-mail templates (ours in emails/, allauth's in account/email/) are not pages: mail clients need
    # inline styles, and no browser runs them under our CSP.
    files = [
        p
        for p in TEMPLATES.rglob("*.html")
        if "emails" not in p.parts and p.parent.parts[-2:] != ("account", "email")
    ]
    assert len(files) > 20
    for path in files:
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, HANDLER_ATTR, JS_URL, STYLE_ATTR):
            assert not pattern.search(text), f"{path}: {pattern.search(text)}"


def test_it_tells_htmx_not_to_inject_styles_or_evaluate_code(db: None, client: Client) -> None:
    body = client.get("/accounts/login/").content.decode()
    assert '"includeIndicatorStyles": false' in body and '"allowEval": false' in body


@pytest.mark.parametrize("path", ["/", "/accounts/login/"])
def test_it_keeps_a_views_own_policy_when_it_sets_one(db: None, client: Client, path: str) -> None:
    # Nothing sets one today; the middleware fills the header in only when it is missing.
    response = client.get(path)
    assert response["Content-Security-Policy"].count("default-src") == 1
