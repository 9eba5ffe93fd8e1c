"""The Procurify fake: client-credentials tokens and the read API, one site per domain."""

from __future__ import annotations

import re
import secrets
import threading
from datetime import date, timedelta
from typing import Any

import httpx

from . import procurify_api as api
from . import procurify_files as files
from . import procurify_payments as payments
from . import procurify_render as render
from .clock import FakeClock
from .faults import Faults
from .procurify_data import BILL_STATUS, Site, stamp
from .web import bearer, html_response, json_response, read_form, read_json

AUDIENCE = "https://api.procurify.com/"
TOKEN_SECONDS = 86400
_SITE = re.compile(r"/procurify/(?P<domain>[^/]+)(?P<rest>/.*)?$")
_DOWNLOAD = re.compile(r"^/files/attachments/(?P<id>\d+)/[^/]+$")


class ProcurifyFake:
    def __init__(self, clock: FakeClock, faults: Faults) -> None:
        self.clock, self.faults = clock, faults
        self.sites: dict[str, Site] = {}
        self._lock = threading.RLock()

    def add_site(self, site: Site) -> Site:
        with self._lock:
            self.sites[site.domain] = site
        return site

    # --- HTTP ---------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        match = _SITE.search(request.url.path)
        site = self.sites.get(match["domain"]) if match else None
        if site is None or match is None:
            return api.not_found()
        rest = match["rest"] or "/"
        if rest.rstrip("/") == "/oauth/token":
            return self._token(site, request)
        download = _DOWNLOAD.match(rest)
        if download and request.method == "GET":
            with self._lock:
                return files.download(site, request, int(download["id"]), self.clock.now())
        if not rest.startswith("/api/"):
            return api.not_found()
        return self._api(site, request, rest)

    def _token(self, site: Site, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return json_response(405, {"error": "method_not_allowed"})
        body = read_json(request)
        if not isinstance(body, dict):
            body = read_form(request)  # docs only show JSON; form is accepted by Auth0 (unverified)
        missing = [k for k in ("client_id", "client_secret", "audience", "grant_type") if not body.get(k)]
        with self._lock:
            site.stats["token"] += 1
        if missing:
            return _oauth_error(400, "invalid_request", f"Missing required parameter: {missing[0]}")
        if body["grant_type"] != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type")
        if body["audience"] != AUDIENCE:
            return _oauth_error(403, "access_denied", f"Service not found: {body['audience']}")
        id_ok = secrets.compare_digest(str(body["client_id"]), site.client_id)
        if not (id_ok and secrets.compare_digest(str(body["client_secret"]), site.client_secret)):
            return _oauth_error(401, "access_denied", "Unauthorized")
        token = secrets.token_urlsafe(40)
        with self._lock:
            site.tokens[token] = self.clock.now() + timedelta(seconds=TOKEN_SECONDS)
        scope = f"urn:procurify-api:domain:{site.domain} urn:procurify-api:email:{site.email}"
        return json_response(
            200, {"access_token": token, "scope": scope, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"}
        )

    def _api(self, site: Site, request: httpx.Request, rest: str) -> httpx.Response:
        token = bearer(request)
        if token is None:
            return json_response(401, {"detail": "Authentication credentials were not provided."})
        expires = site.tokens.get(token)
        if expires is None or expires <= self.clock.now():
            return json_response(401, {"detail": "Invalid or expired token."})
        if self.faults.injected_throttle("procurify"):
            headers = {"Retry-After": str(self.faults.retry_after)} if self.faults.retry_after else {}
            return json_response(429, {"detail": "Request was throttled."}, headers)
        injected = self.faults.injected_error("procurify")
        if injected:
            return html_response(injected, f"<h1>{injected} Server Error</h1>")
        if request.method == "GET" and not rest.endswith("/"):
            # Django's APPEND_SLASH; the spec writes every path with a trailing slash.
            return httpx.Response(
                301, headers={"Location": str(request.url.copy_with(path=request.url.path + "/"))}
            )
        self.faults.delay()
        with self._lock:
            site.stats["read" if request.method == "GET" else "write"] += 1
            if "x-procurify-client" not in request.headers:
                site.stats["missing_x_procurify_client"] += 1
            try:
                response, endpoint = self._route(site, request, rest.rstrip("/").split("/")[2:])
            except api.BadFilter as bad:
                response, endpoint = json_response(400, {bad.name: [bad.message]}), "bad filter"
            site.stats[f"{request.method} {endpoint}"] += 1
            return response

    def _route(self, site: Site, request: httpx.Request, p: list[str]) -> tuple[httpx.Response, str]:
        get, today = request.method == "GET", self.clock.now().date()
        if p == ["v3", "users", "me"] and get:
            return api.single(self._me(site)), "users/me"
        if p[:2] == ["v3", "vendors"]:
            if len(p) == 3 and p[2].isdigit():
                return self._vendor_detail(site, request, int(p[2])), "vendors/{id}"
            if get and len(p) <= 3:
                return api.vendors(site, request, p[2] if len(p) == 3 else None), "vendors"
        if p == ["v3", "account-codes"] and get:
            return api.account_codes(site, request), "account-codes"
        if p[:2] == ["v3", "account-codes"] and len(p) == 3 and get and p[2].isdigit():
            code = site.account_codes.get(int(p[2]))
            return (api.single(dict(code)) if code else api.not_found()), "account-codes/{id}"
        if p == ["v3", "departments"] and get:
            return api.departments(site, request), "departments"
        if p == ["v2", "locations"] and get:
            return api.locations(site, request), "locations"
        if p[:2] == ["v2", "locations"] and len(p) == 3 and get and p[2].isdigit():
            found = int(p[2]) in site.locations
            return (
                api.single(render.location(site, int(p[2]))) if found else api.not_found()
            ), "locations/{id}"
        if p == ["v2", "currencies"] and get:
            return api.currencies(site, request), "currencies"
        if p == ["v3", "ap", "bills", "mark-as-paid"] and request.method == "POST":
            return self._mark_paid(site, request), "ap/bills/mark-as-paid"
        if p == ["v3", "ap", "bills"]:
            return (api.bills(site, request, today) if get else _not_allowed(request)), "ap/bills"
        if p[:3] == ["v2", "ap", "bills"] and len(p) == 4:
            base = str(request.url.copy_with(path=request.url.path.split("/api/", 1)[0], query=None))
            detail = api.bill(site, p[3], today, base, self.clock.now()) if get else _not_allowed(request)
            return detail, "ap/bills/{uuid}"
        if p == ["public", "v1", "payments"]:
            return (payments.payments(site, request) if get else _not_allowed(request)), "public/v1/payments"
        if p[:2] == ["v2", "purchase_orders"] and get and len(p) == 4:
            return api.purchase_orders(site, request, p[2], p[3]), "purchase_orders/{role}/{status}"
        if p[:2] == ["v2", "purchase_orders"] and get and len(p) == 3:
            return api.purchase_order(site, p[2]), "purchase_orders/{id}"
        return api.not_found(), "unknown"

    def _me(self, site: Site) -> dict[str, Any]:
        return {
            "id": 1,
            "email": site.email,
            "first_name": "Integration",
            "last_name": "User",
            "is_active": True,
            "role": {"id": 1, "name": "Superuser"},
            "location": next(iter(site.locations), None),
        }

    def _vendor_detail(self, site: Site, request: httpx.Request, vendor_id: int) -> httpx.Response:
        vendor = site.vendors.get(vendor_id)
        if vendor is None:
            return api.not_found()
        if request.method in ("PATCH", "PUT"):
            body = read_json(request) or {}
            writable = {k: v for k, v in body.items() if k in vendor and k not in ("id", "dateModified")}
            vendor.update(writable)
            vendor["dateModified"] = stamp(self.clock.now())
        elif request.method != "GET":
            return _not_allowed(request)
        return api.single(dict(vendor))

    def _mark_paid(self, site: Site, request: httpx.Request) -> httpx.Response:
        body = read_json(request) or {}
        uuids, paid_on = body.get("bill_uuids") or [], body.get("payment_date")
        bills = [site.bills.get(str(u).replace("-", "")) for u in uuids]
        if not uuids or not paid_on or any(b is None or b["status"] != 2 or b.get("paid_on") for b in bills):
            return json_response(
                400, {"bill_uuids": ["Only approved bills without a payment can be marked paid."]}
            )
        for record in bills:
            assert record is not None
            record["status"], record["paid_on"] = BILL_STATUS["paid"], date.fromisoformat(paid_on)
            site.bump(record, self.clock.now())
            # Marked paid outside Procurify: the payments list shows an external payment (procurify.md §7).
            payments.add_payment(
                site,
                self.clock.now(),
                bill_uuids=[record["uuid"]],
                rail=None,
                source_type="external",
                source_name=None,
                posted=date.fromisoformat(paid_on),
            )
        return json_response(200, {"data": {"bill_uuids": uuids}})

    # --- test and control helpers -----------------------------------------------------------------
    def site(self, domain: str) -> Site:
        return self.sites[domain]

    def add_vendor(self, domain: str, name: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            return dict(self.sites[domain].add_vendor(name, self.clock.now(), **fields))

    def set_currency_rate(self, domain: str, name: str, rate: str) -> dict[str, Any]:
        """New rate from now on; bills already created keep theirs in converted_total_cost."""
        with self._lock:
            return dict(self.sites[domain].set_currency_rate(name, rate))

    def add_bill(self, domain: str, **spec: Any) -> dict[str, Any]:
        """Add a bill; see seed.bill_record for the accepted keywords. Returns the detail payload."""
        from .seed import bill_record  # seed builds on this module; import late to avoid a cycle

        with self._lock:
            site = self.sites[domain]
            record = site.add_bill(bill_record(site, self.clock.now(), **spec))
            return render.bill_detail(site, record, self.clock.now().date(), now=self.clock.now())

    def edit_bill(self, domain: str, bill_uuid: str, **changes: Any) -> dict[str, Any]:
        """Change a bill as a Procurify user would: bumps version and last_modified_datetime."""
        from .seed import apply_bill_changes

        with self._lock:
            site = self.sites[domain]
            record = site.bills[bill_uuid.replace("-", "")]
            apply_bill_changes(site, record, changes)
            site.bump(record, self.clock.now())
            return render.bill_detail(site, record, self.clock.now().date(), now=self.clock.now())

    def add_attachment(
        self, domain: str, bill_uuid: str, name: str, content_type: str, **file: Any
    ) -> dict[str, Any]:
        """A user adds a file to a bill (see procurify_files.add_attachment for ``file``); like any
        edit it bumps the bill's version and modification time (unverified for real Procurify)."""
        with self._lock:
            site = self.sites[domain]
            record = site.bills[bill_uuid.replace("-", "")]
            added = files.add_attachment(site, record, name, content_type, created=self.clock.now(), **file)
            site.bump(record, self.clock.now())
            return dict(added)

    def attachment(self, domain: str, attachment_id: int) -> dict[str, Any]:
        with self._lock:
            found = files.find(self.sites[domain], attachment_id)
            if found is None:
                raise KeyError(attachment_id)
            return found

    def void_bill(self, domain: str, bill_uuid: str) -> dict[str, Any]:
        """Withdraw a bill: it stays listed, status 5 (Withdrawn), inactive, modified now."""
        return self.edit_bill(domain, bill_uuid, status="withdrawn", active=False)

    def remove_bill(self, domain: str, bill_uuid: str) -> None:
        """Delete a bill outright: it disappears from lists and its detail answers 404."""
        with self._lock:
            del self.sites[domain].bills[bill_uuid.replace("-", "")]
            self.sites[domain].generation += 1

    def bills(self, domain: str) -> list[dict[str, Any]]:
        with self._lock:
            site = self.sites[domain]
            today = self.clock.now().date()
            return [
                render.bill_detail(site, b, today, now=self.clock.now())
                for b in sorted(site.bills.values(), key=lambda b: b["id"])
            ]

    def add_payment(self, domain: str, **spec: Any) -> dict[str, Any]:
        """Pay bills (see procurify_payments.add_payment); returns the payment as the list shows it."""
        with self._lock:
            site = self.sites[domain]
            return payments.render(site, payments.add_payment(site, self.clock.now(), **spec))

    def set_payment_status(self, domain: str, payment_uuid: str, status: str) -> dict[str, Any]:
        """Move a payment on, or reverse it (paid → failed/denied); updated_at moves on."""
        with self._lock:
            site = self.sites[domain]
            payment = payments.payment_by_uuid(site, payment_uuid)
            return payments.render(site, payments.set_status(site, payment["id"], status, self.clock.now()))

    def payments(self, domain: str) -> list[dict[str, Any]]:
        with self._lock:
            site = self.sites[domain]
            return [payments.render(site, p) for p in sorted(site.payments.values(), key=lambda p: p["id"])]

    def expire_tokens(self, domain: str | None = None) -> int:
        with self._lock:
            now, count = self.clock.now(), 0
            for site in self.sites.values():
                if domain in (None, site.domain):
                    for token, expires in site.tokens.items():
                        site.tokens[token] = min(expires, now)
                        count += 1
            return count

    def stats(self, domain: str) -> dict[str, Any]:
        with self._lock:
            stats = self.sites[domain].stats
            return {
                "tokens_issued": stats["token"],
                "reads": stats["read"],
                "writes": stats["write"],
                "missing_x_procurify_client": stats["missing_x_procurify_client"],
                "by_endpoint": {k: v for k, v in sorted(stats.items()) if " " in k},
            }


def _oauth_error(status: int, error: str, description: str) -> httpx.Response:
    return json_response(status, {"error": error, "error_description": description})


def _not_allowed(request: httpx.Request) -> httpx.Response:
    return json_response(405, {"detail": f'Method "{request.method}" not allowed.'})
