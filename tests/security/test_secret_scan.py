"""Secret scan: connect both systems, rotate tokens, sync (one failing request, some holds, one failed
run), then look for every secret — raw, URL-encoded, base64, inside Basic auth — everywhere a person or
a log pipeline could see it: log records, the audit trail, holds and run errors, e-mails, every
organisation page, the admin, Django's technical 500 page. Stored secrets must be ciphertext."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.core import mail
from django.db import connection as db
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from security_support import Wired, basic_auth_forms, find_leaks, run_sync, secret_forms

from connector.clients import use_transport
from connector.emails import maybe_send_first_sync, send_held_digest, send_run_failed
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from connector.oauth import ensure_fresh_qbo_token
from mappings.models import AccountMapping, VendorMapping
from tenants.connection_emails import send_qbo_expiry_warning, send_qbo_reauth_needed
from tenants.fields import EncryptedTextField
from tenants.models import Connection, Membership, Provider

LOGGERS = ("", "httpx", "httpcore", "connector", "connector.http", "tenants", "mappings", "django", "celery")


@dataclass
class World:
    wired: Wired
    secrets: dict[str, set[str]]
    runs: list[SyncRun]
    mails: list[str] = field(default_factory=list)


def _secrets(wired: Wired, old_qbo: Connection) -> dict[str, set[str]]:
    qbo = Connection.objects.get(organisation=wired.organisation, provider=Provider.QBO)
    procurify = Connection.objects.get(organisation=wired.organisation, provider=Provider.PROCURIFY)
    values = {
        "procurify client secret": str(procurify.client_secret),
        "procurify access token": str(procurify.access_token),
        "qbo client secret": django_settings.QBO_CLIENT_SECRET,
        "qbo access token": str(qbo.access_token),
        "qbo refresh token": str(qbo.refresh_token),
        "qbo access token (before rotation)": str(old_qbo.access_token),
        "qbo refresh token (before rotation)": str(old_qbo.refresh_token),
        "field encryption key": django_settings.FIELD_ENCRYPTION_KEYS[0],
    }
    assert all(values.values()), {k: bool(v) for k, v in values.items()}
    assert qbo.refresh_token != old_qbo.refresh_token, "the forced refresh should rotate the token"
    secrets = {name: secret_forms(value) for name, value in values.items()}
    secrets["qbo basic auth"] = basic_auth_forms(
        django_settings.QBO_CLIENT_ID, django_settings.QBO_CLIENT_SECRET
    )
    secrets["procurify basic auth"] = basic_auth_forms(procurify.client_id, str(procurify.client_secret))
    return secrets


@pytest.fixture
def world(distributor: Wired, caplog: pytest.LogCaptureFixture) -> Iterator[World]:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    organisation, sb = distributor.organisation, distributor.sb
    before_rotation = Connection.objects.get(organisation=organisation, provider=Provider.QBO)
    ensure_fresh_qbo_token(before_rotation.pk, force=True)
    sb.faults.fail_next(1, 503, "qbo")  # one failing request, retried
    sb.faults.fail_next(1, 503, "procurify")
    good = run_sync(organisation)
    assert good.status == SyncRun.Status.SUCCEEDED, good.error
    assert HeldRecord.objects.filter(organisation=organisation).exists(), "the seed should hold some bills"
    sb.faults.fail_next(50, 500, "qbo")  # and one run that fails outright
    bad = run_sync(organisation)
    assert bad.status == SyncRun.Status.FAILED
    yield World(distributor, _secrets(distributor, before_rotation), [good, bad])


def _assert_clean(haystacks: list[tuple[str, str]], secrets: dict[str, set[str]]) -> None:
    assert haystacks, "nothing was scanned"
    leaks = find_leaks(haystacks, secrets)
    assert not leaks, "secrets found:\n" + "\n".join(leaks)


def test_it_keeps_secrets_out_of_every_log_record_when_connecting_syncing_and_failing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.get_records("setup") + caplog.records  # the sync ran in the fixture (setup)
    assert any(r.name.startswith("connector.http") for r in records), "the HTTP seam should have logged"
    haystacks = [(f"log {r.name}", formatter.format(r) + repr(getattr(r, "args", ""))) for r in records]
    _assert_clean(haystacks, world.secrets)


def test_it_keeps_secrets_out_of_the_audit_trail_holds_runs_and_connection_errors(world: World) -> None:
    organisation = world.wired.organisation
    events = AuditEvent.objects.filter(organisation=organisation)
    assert events.filter(kind="request").exists()
    haystacks = [(f"audit {e.kind} {e.pk}", e.message + json.dumps(e.data)) for e in events]
    haystacks += [(f"hold {h.pk}", h.message + json.dumps(h.detail)) for h in HeldRecord.objects.all()]
    haystacks += [(f"run {r.pk}", r.error + json.dumps(r.counts)) for r in SyncRun.objects.all()]
    haystacks += [(f"connection {c.pk}", c.last_error) for c in Connection.objects.all()]
    _assert_clean(haystacks, world.secrets)


def test_it_keeps_secrets_out_of_every_alert_email(world: World) -> None:
    organisation = world.wired.organisation
    good, bad = world.runs
    send_held_digest(organisation, list(HeldRecord.objects.filter(organisation=organisation)))
    maybe_send_first_sync(good)
    send_run_failed(bad, 3)
    qbo = Connection.objects.get(organisation=organisation, provider=Provider.QBO)
    send_qbo_reauth_needed(qbo)
    send_qbo_expiry_warning(qbo)
    assert len(mail.outbox) >= 4
    haystacks = []
    for message in mail.outbox:
        parts = [message.subject, message.body, *(str(c) for c, _ in getattr(message, "alternatives", []))]
        haystacks.append((f"mail {message.subject!r}", "\n".join(parts) + str(message.message())))
    _assert_clean(haystacks, world.secrets)


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _first_public_id(model: Any, organisation: Any) -> str:
    row = model.objects.filter(organisation=organisation).first()
    assert row is not None, f"no {model.__name__} to open"
    return str(row.public_id)


def _org_paths(world: World) -> list[str]:
    """Every organisation URL of the URLconf, filled with real ids of this organisation's rows."""
    organisation = world.wired.organisation
    record = ExternalRecord.objects.filter(organisation=organisation, object_type="bill").first()
    values = {
        "<uuid:org_id>": str(organisation.public_id),
        "<uuid:held_id>": _first_public_id(HeldRecord, organisation),
        "<uuid:run_id>": str(world.runs[1].public_id),
        "<slug:object_type>": "bill",
        "<str:procurify_id>": record.procurify_id if record else "x",
        "<uuid:membership_id>": _first_public_id(Membership, organisation),
    }
    paths = []
    for route, _ in _walk(get_resolver().url_patterns):
        if "<uuid:org_id>" not in route:
            continue
        kinds = ["vendors", "accounts"] if "<slug:kind>" in route else [""]
        for kind in kinds:
            path = route.replace("<slug:kind>", kind)
            if "<uuid:mapping_id>" in path:
                model = VendorMapping if kind == "vendors" else AccountMapping
                path = path.replace("<uuid:mapping_id>", _first_public_id(model, organisation))
            for placeholder, value in values.items():
                path = path.replace(placeholder, value)
            if "<" not in path:
                paths.append("/" + path)
    return paths


def test_it_keeps_secrets_out_of_every_organisation_page(world: World, owner: Any) -> None:
    paths = _org_paths(world)
    assert len(paths) >= 15, paths
    haystacks = []
    for path in paths:
        response = owner.client.get(path)
        assert response.status_code < 500, path
        body = b"".join(response.streaming_content) if response.streaming else response.content  # CSV exports
        haystacks.append((f"GET {path}", body.decode(errors="replace")))
    shown = [p for p, body in haystacks if len(body) > 200]
    assert len(shown) >= 10, "most pages should render for the owner"
    _assert_clean(haystacks, world.secrets)


def test_it_keeps_secrets_out_of_the_admin_pages(world: World, django_user_model: Any) -> None:
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests")
    client = Client()
    client.force_login(superuser)
    haystacks = []
    for model in admin.site._registry:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        haystacks.append((f"admin {changelist}", client.get(changelist).content.decode()))
        for obj in model._default_manager.all()[:3]:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            response = client.get(change)
            assert response.status_code == 200, change
            haystacks.append((f"admin {change}", response.content.decode()))
    assert any("connection" in where for where, _ in haystacks)
    _assert_clean(haystacks, world.secrets)


class _Explodes(httpx.BaseTransport):
    """A transport that crashes with an unexpected error on token requests (a bug, not an HTTP error)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "token" in request.url.path:
            raise RuntimeError("unexpected failure while asking for a token")
        return self.inner.handle_request(request)


@pytest.mark.parametrize("provider", ["procurify", "qbo"])
def test_it_keeps_secrets_out_of_the_debug_500_page_when_a_token_request_crashes(
    world: World, owner: Any, settings: Any, provider: str
) -> None:
    organisation = world.wired.organisation
    Connection.objects.filter(organisation=organisation).update(access_expires_at=None)  # force a token call
    settings.DEBUG = True
    client = Client(
        raise_request_exception=False,
        HTTP_AUTHORIZATION="Bearer " + next(iter(world.secrets["qbo access token"])),
    )
    client.force_login(owner.user)
    with use_transport(_Explodes(world.wired.transport), clock=world.wired.sb.clock.now):
        response = client.post(
            f"/o/{organisation.public_id}/connections/{provider}/test/",
            {"next": "overview"},
        )
    assert response.status_code == 500
    page = response.content.decode()
    assert "unexpected failure while asking for a token" in page, "expected Django's technical 500 page"
    _assert_clean([(f"technical 500 ({provider})", page)], world.secrets)


def test_it_stores_only_ciphertext_in_every_encrypted_column(world: World) -> None:
    columns = [f.column for f in Connection._meta.get_fields() if isinstance(f, EncryptedTextField)]
    assert {"client_secret", "access_token", "refresh_token"} <= set(columns)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM tenants_connection")  # names from the model
        raw = [value for row in cursor.fetchall() for value in row if value]
    assert len(raw) >= 4
    assert all(value.startswith("gAAAAA") for value in raw), "not Fernet ciphertext"
    _assert_clean([("raw tenants_connection", "\n".join(raw))], world.secrets)
    # No other table stores them either (the audit trail, holds and runs are scanned above).
    with db.cursor() as cursor:
        cursor.execute("SELECT data::text FROM connector_auditevent")
        dumped = "\n".join(row[0] for row in cursor.fetchall())
    _assert_clean([("raw connector_auditevent.data", dumped)], world.secrets)


# ---- issue 12: the QuickBooks callback's code and state, and credential shapes, in every log line ----------


def _configured_handlers(logger_name: str) -> list[logging.Handler]:
    """The handlers settings.LOGGING attached along the logger's propagation chain (not pytest's)."""
    logger: logging.Logger | None = logging.getLogger(logger_name)
    handlers: list[logging.Handler] = []
    while logger is not None:
        handlers += [h for h in logger.handlers if type(h).__module__.startswith("logging")]
        logger = logger.parent if logger.propagate else None
    return handlers


def _emitted(record: logging.LogRecord, logger_name: str | None = None) -> list[str]:
    """What each configured handler would write for ``record``: its filters, then its formatter."""
    lines = []
    handlers = _configured_handlers(logger_name or record.name)
    assert handlers, f"no configured handler for {record.name}"
    for handler in handlers:
        copy = logging.makeLogRecord(record.__dict__)
        if handler.filter(copy):
            lines.append(handler.format(copy))
    return lines


def test_it_keeps_the_qbo_callback_code_and_state_out_of_every_log_line(
    db: None, settings: Any, org_a: Any, owner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from security_support import NOW, REDIRECT_URI, point_settings_at

    from sandbox import Sandbox

    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    sb = Sandbox.create(seed="distributor", now=NOW)
    point_settings_at(sb, settings)
    with use_transport(sb.transport(), clock=sb.clock.now):
        response = owner.client.post(f"/o/{org_a.public_id}/connections/qbo/connect/")
        state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
        callback = sb.qbo.approve_for_tests(
            sb.credentials["qbo"]["client_id"], REDIRECT_URI, state, sb.realm_ids[0]
        )
        code = parse_qs(urlsplit(callback).query)["code"][0]
        parts = urlsplit(callback)
        assert owner.client.get(f"{parts.path}?{parts.query}").status_code == 302
        # A replayed callback (state already used) fails and is logged as a 400 by django.request.
        assert owner.client.get(f"{parts.path}?{parts.query}").status_code == 400
    assert Connection.objects.filter(organisation=org_a, provider=Provider.QBO).exists()
    secrets = {"qbo code": {code}, "qbo state": {state}}
    records = caplog.records
    assert records, "the connect and callback should have logged"
    raw = [(f"record {r.name}", r.getMessage() + repr(r.args)) for r in records]
    emitted = [(f"handler {r.name}", line) for r in records for line in _emitted(r)]
    # The same request as runserver (django.server) writes it: the request line carries the query.
    request_line = f"GET {parts.path}?{parts.query} HTTP/1.1"
    server = logging.getLogger("django.server").makeRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s', (request_line, 302, 0), None
    )
    emitted += [("django.server", line) for line in _emitted(server)]
    assert any("realmId=" in line for _, line in emitted), "the request line itself should still be logged"
    _assert_clean(raw + emitted, secrets)


def test_it_keeps_the_qbo_callback_code_and_state_out_of_gunicorn_access_and_error_logs() -> None:
    from datetime import timedelta
    from types import SimpleNamespace
    from urllib.parse import quote

    from gunicorn.config import Config

    from config.access_log import RedactingLogger

    code, state = "AB11-callback-code-Zq9", "state-value-8f7e6d"
    token, cookie = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "sessionid=cookie-value-123"
    target = f"/connections/qbo/callback/?code={code}&state={state}&realmId=9341"
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set(
        "access_log_format",
        '%(h)s "%(r)s" %(s)s "%(f)s" q=%(q)s U=%(U)s auth=%({authorization}i)s cookie=%({cookie}i)s '
        "raw=%({raw_uri}e)s",
    )
    logger = RedactingLogger(cfg)
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage() + (record.exc_text or ""))

    logger.access_log.addHandler(Collect())
    logger.error_log.addHandler(Collect())
    headers = [("AUTHORIZATION", f"Bearer {token}"), ("COOKIE", cookie), ("REFERER", f"http://h{target}")]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": target,
        "PATH_INFO": "/connections/qbo/callback/",
        "QUERY_STRING": target.split("?", 1)[1],
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://h{target}",
    }
    response = SimpleNamespace(status="302 Found", sent=0, headers=[("Location", "/o/x/connections/")])
    logger.access(response, SimpleNamespace(headers=headers), environ, timedelta(milliseconds=12))
    # Signed out, the callback redirects to the login page with itself, encoded, in ?next=.
    login = "/accounts/login/?next=" + quote(target, safe="")
    login_environ = {**environ, "RAW_URI": login, "QUERY_STRING": login.split("?", 1)[1], "HTTP_REFERER": "-"}
    logger.access(response, SimpleNamespace(headers=[]), login_environ, timedelta(milliseconds=3))
    logger.error("Error handling request %s", target)
    try:
        raise ValueError(f"boom while handling {target} with Bearer {token}")
    except ValueError:
        logger.exception("Error handling request")
    assert len(lines) == 4
    assert "realmId=9341" in lines[0] and '" 302 "' in lines[0]
    assert "/accounts/login/?next=" in lines[1]
    secrets = {"code": {code}, "state": {state}, "token": {token}, "cookie": {"cookie-value-123"}}
    _assert_clean([(f"gunicorn line {i}", line) for i, line in enumerate(lines)], secrets)


@pytest.mark.parametrize(
    "level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]
)
def test_it_masks_credential_shaped_values_at_every_level(level: int) -> None:
    values = {
        "bearer": "Bearer abcDEF123456789token",
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig-nature_value",
        "fernet": "gAAAAABmZ2V0LXNvbWUtY2lwaGVydGV4dC1oZXJlLXBsZWFzZQ==",
        "basic": "Basic dXNlcjpwYXNzd29yZC12YWx1ZQ==",
        "url password": "https://user:hunter2-pass@example.com/x",
        "query": "https://x.example/cb?code=code-value-1&state=state-value-2",
        "json": '{"client_secret": "cs-value-3", "refresh_token": "rt-value-4", "password": "pw-value-5"}',
    }
    needles = {
        "bearer": {"abcDEF123456789token"},
        "jwt": {"eyJhbGciOiJIUzI1NiJ9"},
        "fernet": {"gAAAAABmZ2V0LXNvbWUt"},
        "basic": {"dXNlcjpwYXNzd29yZC12YWx1ZQ"},
        "url password": {"hunter2-pass"},
        "query": {"code-value-1", "state-value-2"},
        "json": {"cs-value-3", "rt-value-4", "pw-value-5"},
    }
    logger = logging.getLogger("connector.test_redaction")
    for name, value in values.items():
        try:
            raise RuntimeError(f"failed with {value}")
        except RuntimeError:
            import sys

            exc_info = sys.exc_info()
        record = logger.makeRecord(logger.name, level, __file__, 1, "%s: %s", (name, value), exc_info)
        lines = _emitted(record)
        _assert_clean(
            [(f"{name} at {logging.getLevelName(level)}", line) for line in lines], {name: needles[name]}
        )
