"""The JSON control API under /_sandbox/ (runtime knobs for the demo and benchmarks)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from .control_page import render_page
from .qbo_errors import QBOFault
from .web import html_response, json_response, read_json

if TYPE_CHECKING:
    from . import Sandbox

Handler = Callable[["Sandbox", dict[str, Any], re.Match[str]], Any]
ROUTES: list[tuple[str, str, Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append((method, f"^{pattern}$", fn))
        return fn

    return register


def handle(sb: Sandbox, request: httpx.Request) -> httpx.Response:
    path = "/" + request.url.path.split("/_sandbox", 1)[1].strip("/")
    if path == "/" and request.method == "GET":
        return html_response(200, render_page(sb))
    body = read_json(request) or {}
    if not isinstance(body, dict):
        return json_response(400, {"error": "body must be a JSON object"})
    body.update({k: v for k, v in request.url.params.items() if k not in body})
    for method, pattern, fn in ROUTES:
        match = re.match(pattern, path)
        if match and method == request.method:
            try:
                return json_response(200, fn(sb, body, match))
            except QBOFault as fault:
                return json_response(fault.status, fault.payload(sb.clock.now()))
            except KeyError as exc:
                return json_response(404, {"error": f"not found: {exc}"})
            except (ValueError, TypeError) as exc:
                return json_response(400, {"error": str(exc)})
    return json_response(404, {"error": f"no control route {request.method} {path}"})


@route("GET", "/state")
def _state(sb: Sandbox, body: dict[str, Any], _m: re.Match[str]) -> Any:
    full = str(body.get("full", "")).lower() in ("1", "true")
    realms = {}
    for rid, realm in sb.qbo.realms.items():
        counts = {entity: len(rows) for entity, rows in realm.objects.items()}
        realms[rid] = {"company": realm.company_name, "counts": counts}
        if full:
            realms[rid]["objects"] = {e: sb.qbo.objects(rid, e) for e in realm.objects}
    sites = {
        d: {"bills": len(s.bills), "vendors": len(s.vendors), "pos": len(s.pos)}
        for d, s in sb.procurify.sites.items()
    }
    return {
        "now": sb.clock.now().isoformat(),
        "frozen": sb.clock.frozen,
        "faults": sb.faults.as_dict(),
        "qbo": realms,
        "procurify": sites,
        "oauth": sb.qbo.auth.summary(),
    }


@route("GET", "/credentials")
def _credentials(sb: Sandbox, _b: dict[str, Any], _m: re.Match[str]) -> Any:
    return sb.credentials


@route("GET", "/stats")
def _stats(sb: Sandbox, _b: dict[str, Any], _m: re.Match[str]) -> Any:
    return {
        "qbo": {rid: sb.qbo.stats(rid) for rid in sb.qbo.realms},
        "procurify": {d: sb.procurify.stats(d) for d in sb.procurify.sites},
    }


@route("GET", "/clock")
def _clock(sb: Sandbox, _b: dict[str, Any], _m: re.Match[str]) -> Any:
    return {"now": sb.clock.now().isoformat(), "frozen": sb.clock.frozen}


@route("POST", "/clock")
def _move_clock(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    if body.get("set"):
        sb.clock.set(datetime.fromisoformat(str(body["set"]).replace("Z", "+00:00")))
    if body.get("advance_seconds"):
        sb.clock.advance(seconds=float(body["advance_seconds"]))
    if body.get("freeze"):
        sb.clock.freeze()
    if body.get("unfreeze"):
        sb.clock.unfreeze()
    return _clock(sb, body, m)


@route("GET", "/faults")
def _faults(sb: Sandbox, _b: dict[str, Any], _m: re.Match[str]) -> Any:
    return sb.faults.as_dict()


@route("POST", "/faults")
def _set_faults(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    body = dict(body)
    if body.pop("reset", False):
        sb.faults.reset()
    if "fail_next" in body:
        sb.faults.fail_next(**body.pop("fail_next"))
    if "throttle_next" in body:
        sb.faults.throttle_next(**body.pop("throttle_next"))
    if "lose_next" in body:
        sb.faults.lose_next(int(body.pop("lose_next")))
    sb.faults.update(**body)
    return sb.faults.as_dict()


@route("POST", "/tokens/expire")
def _expire(sb: Sandbox, body: dict[str, Any], _m: re.Match[str]) -> Any:
    return {
        "qbo_access_tokens": sb.qbo.expire_tokens(body.get("realm_id")) if "domain" not in body else 0,
        "procurify_tokens": sb.procurify.expire_tokens(body.get("domain")) if "realm_id" not in body else 0,
    }


@route("POST", "/tokens/revoke")
def _revoke(sb: Sandbox, body: dict[str, Any], _m: re.Match[str]) -> Any:
    return {"qbo_grants_revoked": sb.qbo.revoke_tokens(body.get("realm_id"))}


@route("POST", "/reset")
def _reset(sb: Sandbox, _b: dict[str, Any], _m: re.Match[str]) -> Any:
    sb.reset()
    return {"reset": True}


@route("GET", "/procurify/(?P<domain>[^/]+)/bills")
def _bills(sb: Sandbox, _b: dict[str, Any], m: re.Match[str]) -> Any:
    return sb.procurify.bills(m["domain"])


@route("POST", "/procurify/(?P<domain>[^/]+)/bills")
def _add_bill(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    return sb.procurify.add_bill(m["domain"], **body)


@route("POST", "/procurify/(?P<domain>[^/]+)/bills/(?P<uuid>[0-9a-f-]+)")
def _edit_bill(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    return sb.procurify.edit_bill(m["domain"], m["uuid"], **body)


@route("POST", "/procurify/(?P<domain>[^/]+)/bills/(?P<uuid>[0-9a-f-]+)/void")
def _void_bill(sb: Sandbox, _b: dict[str, Any], m: re.Match[str]) -> Any:
    return sb.procurify.void_bill(m["domain"], m["uuid"])


@route("DELETE", "/procurify/(?P<domain>[^/]+)/bills/(?P<uuid>[0-9a-f-]+)")
def _remove_bill(sb: Sandbox, _b: dict[str, Any], m: re.Match[str]) -> Any:
    sb.procurify.remove_bill(m["domain"], m["uuid"])
    return {"removed": m["uuid"]}


@route("POST", "/procurify/(?P<domain>[^/]+)/vendors")
def _add_vendor(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    return sb.procurify.add_vendor(m["domain"], **body)


@route("POST", "/procurify/(?P<domain>[^/]+)/currencies/(?P<name>[A-Za-z]+)")
def _currency_rate(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    return sb.procurify.set_currency_rate(m["domain"], m["name"], str(body["rate"]))


@route("POST", "/qbo/approve")
def _approve(sb: Sandbox, body: dict[str, Any], _m: re.Match[str]) -> Any:
    keys = ("client_id", "redirect_uri", "state", "realm_id")
    return {"callback_url": sb.qbo.approve_for_tests(*(str(body[k]) for k in keys))}


@route("POST", "/qbo/(?P<realm>[^/]+)/preferences")
def _preferences(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    """BookCloseDate (ISO or null), MultiCurrencyEnabled, WarnDuplicateBillNumber, ClassTrackingPerTxn,
    ClassTrackingPerTxnLine, TrackDepartments: only those sent change."""
    if "BookCloseDate" in body or not body:
        close = body.get("BookCloseDate")
        sb.qbo.set_book_close_date(m["realm"], date.fromisoformat(close) if close else None)
    prefs = sb.qbo.set_preferences(
        m["realm"],
        multicurrency_enabled=_flag(body.get("MultiCurrencyEnabled")),
        warn_duplicate_bill_number=_flag(body.get("WarnDuplicateBillNumber")),
        class_tracking_per_txn=_flag(body.get("ClassTrackingPerTxn")),
        class_tracking_per_line=_flag(body.get("ClassTrackingPerTxnLine")),
        track_departments=_flag(body.get("TrackDepartments")),
    )
    return {"BookCloseDate": prefs["AccountingInfoPrefs"].get("BookCloseDate"), "Preferences": prefs}


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "false", "0"):
        return str(value).lower() in ("true", "1")
    raise ValueError(f"not a boolean: {value!r}")


@route("GET", "/qbo/(?P<realm>[^/]+)/(?P<entity>[A-Za-z]+)")
def _objects(sb: Sandbox, _b: dict[str, Any], m: re.Match[str]) -> Any:
    return sb.qbo.objects(m["realm"], m["entity"])


@route("POST", "/qbo/(?P<realm>[^/]+)/bill/(?P<id>\\d+)/paid")
def _paid(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    """Paid in QuickBooks by a person: the whole open balance, or {"amount": "…"} of it."""
    return sb.qbo.mark_bill_paid(m["realm"], m["id"], body.get("amount"))


@route("DELETE", "/qbo/(?P<realm>[^/]+)/(?P<entity>[A-Za-z]+)/(?P<id>\\d+)")
def _delete_as_user(sb: Sandbox, _b: dict[str, Any], m: re.Match[str]) -> Any:
    """Deleted in QuickBooks by a person (refused like the API: paid bills, closed books)."""
    return sb.qbo.delete_as_user(m["realm"], m["entity"], m["id"])


@route("POST", "/qbo/(?P<realm>[^/]+)/(?P<entity>[A-Za-z]+)/(?P<id>\\d+)")
def _edit_as_user(sb: Sandbox, body: dict[str, Any], m: re.Match[str]) -> Any:
    return sb.qbo.edit_as_user(m["realm"], m["entity"], m["id"], **body)
