"""An organisation wired to the sandbox through the product's own connection code, a request log kept
in front of the sandbox, and the helpers the reconciliation and preview tests share."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from connector.clients import procurify_client_for, qbo_client_for
from connector.models import SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline
from connector.sync.preview import CREATE, DELETE, SEGMENTS, UPDATE, Write
from sandbox import Sandbox
from tenants.models import Organisation

DOMAIN = "northwind"


@dataclass
class LoggedRequest:
    method: str
    path: str
    params: dict[str, str]
    body: Any


@dataclass
class RequestLog(httpx.BaseTransport):
    """Every request that reached the sandbox, in order: what left our process."""

    inner: httpx.BaseTransport
    requests: list[LoggedRequest] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        try:
            body = json.loads(content, parse_float=Decimal) if content else None
        except ValueError:
            body = content.decode(errors="replace")
        params = dict(request.url.params)
        self.requests.append(LoggedRequest(request.method, request.url.path, params, body))
        return self.inner.handle_request(request)

    def qbo_writes(self, since: int = 0) -> list[LoggedRequest]:
        """POSTs to the QuickBooks API (token requests are not writes to the books)."""
        return [r for r in self.requests[since:] if r.method != "GET" and "/v3/company/" in r.path]

    def writes_as_sent(self, since: int = 0) -> list[Write]:
        """The QuickBooks writes in the log, one per object (a batch's items one by one)."""
        out: list[Write] = []
        for request in self.qbo_writes(since):
            segment = request.path.rsplit("/", 1)[-1]
            if segment == "batch":
                for item in request.body["BatchItemRequest"]:
                    entity = next(k for k in item if k[0].isupper())
                    out.append(Write(item.get("operation") or CREATE, entity, item[entity]))
                continue
            if segment == "upload":  # multipart: the file's metadata part says what it is linked to
                out.append(Write(CREATE, "Attachable", _upload_metadata(request.body)))
                continue
            entity = SEGMENTS[segment]
            delete = request.params.get("operation") == "delete"
            action = DELETE if delete else (UPDATE if request.body.get("Id") else CREATE)
            out.append(Write(action, entity, request.body))
        return out


def sync(org: Organisation, sb: Sandbox) -> SyncRun:
    queued = runs.enqueue_run(org, SyncRun.Trigger.MANUAL)
    assert queued is not None
    return run_pipeline(
        queued.pk, procurify=procurify_client_for(org), qbo=qbo_client_for(org), clock=sb.clock.now
    )


def procurify_bill(sb: Sandbox, number: str) -> dict[str, Any]:
    return next(b for b in sb.procurify.bills(DOMAIN) if b.get("invoice_number") == number)


def _upload_metadata(body: Any) -> dict[str, Any]:
    """The Attachable JSON part of a logged multipart upload (the file's bytes are not needed)."""
    text = body if isinstance(body, str) else bytes(body or b"").decode(errors="replace")
    match = re.search(r"\r\n\r\n(\{.*?\})\r\n--", text, re.S)
    assert match, "an upload without its metadata part"
    meta = json.loads(match.group(1))
    keep = ("FileName", "ContentType", "Note", "AttachableRef")
    return {k: v for k, v in meta.items() if k in keep}
