"""The QuickBooks Online fake: OAuth, the v3 company API, faults and throttling (reference: QBO)."""

from __future__ import annotations

import copy
import re
import threading
from datetime import date
from decimal import Decimal
from typing import Any, cast
from urllib.parse import unquote

import httpx

from . import qbo_cdc, qbo_query, qbo_upload
from . import qbo_errors as err
from .clock import FakeClock
from .faults import Faults, InFlight, WindowCounter
from .qbo_bill_payment import bill_ids, refresh_bills
from .qbo_company import company_info, preferences, server_error, throttle_response
from .qbo_entities import DERIVED, READ_ONLY, TRANSACTIONS, WRITABLE, Ctx, check_closed_period, merge, prepare
from .qbo_errors import PACIFIC, QBOFault, gateway_payload, qbo_time
from .qbo_oauth import QBOAuth
from .qbo_store import URL_NAMES, Realm
from .web import bearer, body_bytes, dumps, json_response, mark_lost, read_json

BATCH_LIMIT = 30
_API = re.compile(r"^/v3/company/(?P<realm>[^/]+)/(?P<rest>.*)$")


class QBOFake:
    def __init__(self, clock: FakeClock, faults: Faults, client_id: str, client_secret: str) -> None:
        self.clock, self.faults = clock, faults
        self.auth = QBOAuth(clock, client_id, client_secret)
        self.realms: dict[str, Realm] = {}
        self._lock = threading.RLock()
        self._window = WindowCounter()
        self._batch_window = WindowCounter()
        self._inflight = InFlight()

    @property
    def credentials(self) -> dict[str, Any]:
        return {"client_id": self.auth.client_id, "client_secret": self.auth.client_secret}

    def add_realm(self, realm: Realm) -> Realm:
        with self._lock:
            self.realms[realm.realm_id] = realm
            self.auth.realm_names[realm.realm_id] = realm.company_name
        return realm

    # --- HTTP entry point ------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.split("/qbo", 1)[-1] or "/"
        if path.rstrip("/") == "/connect/oauth2":
            return self.auth.authorize(request)
        if path == "/oauth2/v1/tokens/bearer" and request.method == "POST":
            return self.auth.token(request)
        if path == "/oauth2/v1/tokens/revoke" and request.method == "POST":
            return self.auth.revoke(request)
        match = _API.match(path)
        if not match:
            return json_response(404, {"error": "not found", "path": path})
        return self._api(request, match["realm"], match["rest"])

    def _api(self, request: httpx.Request, realm_id: str, rest: str) -> httpx.Response:
        now = self.clock.now()
        token_realm = self.auth.access_realm(bearer(request))
        if token_realm is None:
            return json_response(
                401,
                gateway_payload(
                    401, "3200", "AuthenticationFailed", "Token expired or invalid", "AUTHENTICATION", now
                ),
                {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'},
            )
        realm = self.realms.get(realm_id)
        if realm is None or token_realm != realm_id:
            body = gateway_payload(
                403,
                "3100",
                "ApplicationAuthorizationFailed",
                "Token not valid for this company",
                "AUTHORIZATION",
                now,
            )
            return json_response(403, body)
        injected = self.faults.injected_error("qbo")
        if injected:
            with self._lock:
                realm.stats["injected"] += 1
            return server_error(injected, now)
        is_batch = rest == "batch"
        if self._throttled(realm_id, is_batch, now):
            with self._lock:
                realm.stats["throttled"] += 1
            return throttle_response(now, self.faults.retry_after)
        if not self._inflight.enter(realm_id, self.faults.max_concurrent if self.faults.throttle else 10**9):
            with self._lock:
                realm.stats["throttled"] += 1
            return throttle_response(now, self.faults.retry_after)
        try:
            self.faults.delay()
            with self._lock:
                response = self._route(request, realm, rest)
                if response.status_code < 400 and (request.method == "GET" or is_batch):
                    # Intuit meters successful reads, queries, CDC and batches (quickbooks-online.md §14).
                    realm.count("metered", f"{request.method} {rest.split('/')[0]}")
        finally:
            self._inflight.leave(realm_id)
        return response

    def _throttled(self, realm_id: str, is_batch: bool, now: Any) -> bool:
        if self.faults.injected_throttle("qbo"):
            return True
        if not self.faults.throttle:
            return False
        if is_batch and not self._batch_window.hit(realm_id, now, self.faults.batch_per_minute):
            return True
        return not self._window.hit(realm_id, now, self.faults.requests_per_minute)

    def _route(self, request: httpx.Request, realm: Realm, rest: str) -> httpx.Response:
        parts = [unquote(p) for p in rest.strip("/").split("/")]
        method = request.method
        try:
            if parts == ["query"]:
                return self._respond(200, self._query_endpoint(request, realm))
            if parts[0] == "companyinfo" and method == "GET":
                realm.count("read", "GET companyinfo")
                return self._respond(200, {"CompanyInfo": company_info(realm), "time": self._now()})
            if parts == ["preferences"] and method == "GET":
                realm.count("read", "GET preferences")
                return self._respond(200, {"Preferences": preferences(realm), "time": self._now()})
            if parts == ["cdc"] and method == "GET":
                return self._respond(200, self._cdc(request, realm))
            if parts == ["upload"] and method == "POST":
                return self._upload(request, realm)
            if parts == ["batch"] and method == "POST":
                return self._write_with_replay(request, realm, "")
            entity = URL_NAMES.get(parts[0])
            if entity is None:
                raise err.unsupported(f"Unsupported entity {parts[0]!r}")
            if method == "GET" and len(parts) == 2:
                realm.count("read", f"GET {parts[0]}")
                obj = realm.get(entity, parts[1])
                if obj is None:
                    raise err.not_found("Id")
                return self._respond(200, {entity: copy.deepcopy(obj), "time": self._now()})
            if method == "POST" and len(parts) == 1:
                return self._write_with_replay(request, realm, entity)
            raise err.unsupported(f"{method} /{rest} is not supported")
        except QBOFault as fault:
            return self._respond(fault.status, fault.payload(self.clock.now()))

    def _respond(self, status: int, payload: dict[str, Any]) -> httpx.Response:
        return json_response(status, payload, {"intuit_tid": f"sandbox-{id(payload):x}"})

    def _now(self) -> str:
        return qbo_time(self.clock.now())

    # --- writes, requestid replay and lost responses -----------------------------------------------
    def _write_with_replay(self, request: httpx.Request, realm: Realm, entity: str) -> httpx.Response:
        params = request.url.params
        request_id = params.get("requestid")
        if request_id and request_id in realm.replies:
            # Same requestid in the same realm: the original answer, nothing re-run (§2).
            realm.count("write", "replay")
            status, content = realm.replies[request_id]
            return httpx.Response(status, headers={"Content-Type": "application/json"}, content=content)
        try:
            body = read_json(request)
            if not isinstance(body, dict):
                raise err.invalid_value("", "Request body is not a JSON object")
            if entity:
                status, payload = 200, self._write(realm, entity, body, params.get("operation"), params)
            else:
                status, payload = 200, self._batch(realm, body, params)
        except QBOFault as fault:
            status, payload = fault.status, fault.payload(self.clock.now())
        content = dumps(payload)
        if request_id:
            realm.replies[request_id] = (status, content)
        response = httpx.Response(status, headers={"Content-Type": "application/json"}, content=content)
        if status == 200 and self.faults.take_lose():
            mark_lost(response)
        return response

    def _write(
        self,
        realm: Realm,
        entity: str,
        body: dict[str, Any],
        operation: str | None,
        params: Any,
        hidden: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        if entity not in WRITABLE:
            raise err.unsupported(f"Operation {operation or 'create'} is not supported for {entity}")
        ctx = Ctx(realm, self._today(), allow_duplicate_doc=_allow_duplicates(params), hidden=hidden)
        if operation == "delete":
            realm.count("write", f"delete {entity}")
            return self._delete(realm, entity, body)
        if operation not in (None, "", "create", "update"):
            raise err.unsupported(f"Operation {operation} is not supported")
        if body.get("Id") in (None, ""):
            realm.count("write", f"create {entity}")
            fresh = {k: v for k, v in copy.deepcopy(body).items() if k not in READ_ONLY | DERIVED[entity]}
            obj = realm.insert(entity, prepare(entity, fresh, ctx), self.clock.now())
            self._after_write(realm, entity, obj, None)
            return {entity: copy.deepcopy(obj), "time": self._now()}
        realm.count("write", f"update {entity}")
        old = realm.get(entity, body["Id"])
        if old is None:
            raise err.not_found("Id")
        if body.get("SyncToken") in (None, ""):
            raise err.required("SyncToken")
        if str(body["SyncToken"]) != old["SyncToken"]:
            raise err.stale()
        sparse = body.get("sparse") in (True, "true")
        ctx.old = old
        new = prepare(entity, merge(entity, old, body, sparse), ctx)
        realm.touch(new, self.clock.now())
        realm.objects[entity][new["Id"]] = new
        self._after_write(realm, entity, new, old)
        return {entity: copy.deepcopy(new), "time": self._now()}

    def _delete(self, realm: Realm, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in TRANSACTIONS:
            # Name-list entities are never hard-deleted; clients set Active=false (§3).
            raise err.unsupported(f"Operation Delete is not supported for {entity}; set Active to false")
        obj = realm.get(entity, body.get("Id"))
        if obj is None:
            raise err.not_found("Id")
        if body.get("SyncToken") in (None, ""):
            raise err.required("SyncToken")
        if str(body["SyncToken"]) != obj["SyncToken"]:
            raise err.stale()
        check_closed_period(Ctx(realm, self._today()), obj.get("TxnDate"))
        paid = any(link.get("TxnType") == "BillPayment" for link in obj.get("LinkedTxn", []))
        if entity in ("Bill", "VendorCredit") and paid:  # an applied credit is linked like a paid bill
            raise err.business("This transaction has a payment linked to it; unlink the payment first.")
        self._remove(realm, entity, obj)
        return {entity: {"status": "Deleted", "domain": "QBO", "Id": obj["Id"]}, "time": self._now()}

    def _remove(self, realm: Realm, entity: str, obj: dict[str, Any]) -> None:
        del realm.objects[entity][obj["Id"]]
        realm.deleted[entity][obj["Id"]] = qbo_cdc.tombstone(obj, self.clock.now())
        self._after_write(realm, entity, None, obj)

    def _cdc(self, request: httpx.Request, realm: Realm) -> dict[str, Any]:
        """Change data capture (§8): one metered read, whatever the number of entities named."""
        params, now = request.url.params, self.clock.now()
        entities = qbo_cdc.parse_entities(params.get("entities"))
        since = qbo_cdc.parse_since(params.get("changedSince"), now)
        realm.count("read", "cdc")
        return qbo_cdc.changes(realm, entities, since, now)

    def _after_write(self, realm: Realm, entity: str, new: dict | None, old: dict | None) -> None:
        if entity == "BillPayment":  # the bills it pays (or paid) show their new Balance
            refresh_bills(realm, bill_ids(new) | bill_ids(old), self.clock.now())
        if entity == "Bill":
            touched = _po_ids(new) | _po_ids(old)
            for po_id in touched:
                po = realm.get("PurchaseOrder", po_id)
                if po is None:
                    continue
                links = [
                    {"TxnId": b["Id"], "TxnType": "Bill"}
                    for b in realm.objects["Bill"].values()
                    if po_id in _po_ids(b)
                ]
                if links:
                    po["LinkedTxn"] = links
                else:
                    po.pop("LinkedTxn", None)

    def _today(self) -> date:
        return self.clock.now().astimezone(PACIFIC).date()

    # --- file upload (qbo_upload.py) ----------------------------------------------------------------
    def _upload(self, request: httpx.Request, realm: Realm) -> httpx.Response:
        boundary = qbo_upload.boundary_of(request.headers.get("Content-Type", ""))
        if boundary is None:
            raise err.invalid_value("Content-Type", "An upload must be sent as multipart/form-data")
        try:
            body = cast(httpx.SyncByteStream, request.stream)  # this fake serves the sync client only
            parts = qbo_upload.read_parts(body, boundary)
        except qbo_upload.TooLarge:
            raise qbo_upload.too_large() from None
        except ValueError as exc:
            raise err.invalid_value("", f"Malformed multipart body: {exc}") from None
        realm.count("upload", "upload")
        answers: list[dict[str, Any]] = []
        for item in qbo_upload.pair(parts):
            try:
                if isinstance(item, QBOFault):
                    raise item
                answers.append({"Attachable": self._attach(realm, item)})
            except QBOFault as fault:
                answers.append({"Fault": fault.fault()})
        response = self._respond(200, {"AttachableResponse": answers, "time": self._now()})
        if any("Attachable" in a for a in answers) and self.faults.take_lose():
            mark_lost(response)
        return response

    def _attach(self, realm: Realm, upload: qbo_upload.Upload) -> dict[str, Any]:
        meta, content = upload.metadata, upload.content
        refs = meta.get("AttachableRef") or []
        if not isinstance(refs, list):
            raise err.invalid_value("AttachableRef", "AttachableRef must be a list")
        linked = []
        for ref in refs:
            entity_ref = ref.get("EntityRef") if isinstance(ref, dict) else None
            kind = URL_NAMES.get(str((entity_ref or {}).get("type", "")).lower())
            if not entity_ref or kind is None or realm.get(kind, entity_ref.get("value")) is None:
                raise err.invalid_reference("AttachableRef.EntityRef")
            include = bool(ref.get("IncludeOnSend", False))
            linked.append(
                {"EntityRef": {"type": kind, "value": str(entity_ref["value"])}, "IncludeOnSend": include}
            )
        fields = {
            "FileName": meta.get("FileName") or content.filename,
            "ContentType": meta.get("ContentType") or content.content_type,
            "Size": content.size,
            "AttachableRef": linked,
            **{k: meta[k] for k in ("Note", "Category") if meta.get(k)},
        }
        obj = realm.insert("Attachable", fields, self.clock.now())
        obj["FileAccessUri"] = f"/v3/company/{realm.realm_id}/download/{obj['Id']}"
        kept = bytes(content.kept) if content.kept is not None else None
        realm.files[obj["Id"]] = {"size": content.size, "sha256": content.digest.hexdigest(), "data": kept}
        return copy.deepcopy(obj)

    # --- query and batch ---------------------------------------------------------------------------
    def _query_endpoint(self, request: httpx.Request, realm: Realm) -> dict[str, Any]:
        if request.method == "GET":
            text = request.url.params.get("query", "")
        else:
            text = body_bytes(request).decode(errors="replace")
        if not text.strip():
            raise err.query_parse("no query supplied")
        return {"QueryResponse": self._query(realm, text), "time": self._now()}

    def _query(self, realm: Realm, text: str) -> dict[str, Any]:
        query = qbo_query.parse(text)
        realm.count("read", f"query {query.entity}")
        page, total = qbo_query.run(query, list(realm.objects[query.entity].values()))
        if query.count:
            return {"totalCount": total}
        if not page:
            return {}
        return {query.entity: copy.deepcopy(page), "startPosition": query.start, "maxResults": len(page)}

    def _batch(self, realm: Realm, body: dict[str, Any], params: Any) -> dict[str, Any]:
        items = body.get("BatchItemRequest")
        if not isinstance(items, list) or not items:
            raise err.required("BatchItemRequest")
        if len(items) > BATCH_LIMIT:
            raise err.batch_too_large(len(items), BATCH_LIMIT)
        realm.count("write", "batch")
        out: list[dict[str, Any]] = []
        created: set[str] = set()
        for item in items:
            bid = item.get("bId")
            try:
                if "Query" in item:
                    out.append({"bId": bid, "QueryResponse": self._query(realm, item["Query"])})
                    continue
                entity = next((k for k in item if k in URL_NAMES.values()), None)
                if entity is None:
                    raise err.required("BatchItemRequest.entity")
                operation = item.get("operation", "create")
                result = self._write(realm, entity, item[entity], operation, params, frozenset(created))
                out.append({"bId": bid, entity: result[entity]})
                if operation == "create":
                    created.add(result[entity]["Id"])
            except QBOFault as fault:
                out.append({"bId": bid, "Fault": fault.fault()})
        return {"BatchItemResponse": out, "time": self._now()}

    # --- test and control helpers ------------------------------------------------------------------
    def approve_for_tests(self, client_id: str, redirect_uri: str, state: str, realm_id: str) -> str:
        if client_id != self.auth.client_id:
            raise ValueError("unknown client_id")
        if realm_id not in self.realms:
            raise KeyError(realm_id)
        return self.auth.approve(client_id, redirect_uri, state, realm_id)

    def attachables(self, realm_id: str, bill_id: str | None = None) -> list[dict[str, Any]]:
        """Stored Attachables (optionally those linked to one Bill), each with its file's size and sha256."""
        with self._lock:
            realm = self.realms[realm_id]
            out = []
            for obj in sorted(realm.objects["Attachable"].values(), key=lambda o: int(o["Id"])):
                refs = [r["EntityRef"]["value"] for r in obj.get("AttachableRef", [])]
                if bill_id is None or str(bill_id) in refs:
                    out.append({**copy.deepcopy(obj), "_file": dict(realm.files.get(obj["Id"], {}))})
            return out

    def realm(self, realm_id: str) -> Realm:
        return self.realms[realm_id]

    def objects(self, realm_id: str, entity: str) -> list[dict[str, Any]]:
        name = URL_NAMES[entity.lower()]
        with self._lock:
            rows = self.realms[realm_id].objects[name].values()
            return [copy.deepcopy(o) for o in sorted(rows, key=lambda o: int(o["Id"]))]

    def edit_as_user(self, realm_id: str, entity: str, obj_id: str, **changes: Any) -> dict[str, Any]:
        """Change an object as someone in the QBO UI would: validated, SyncToken bumped."""
        name = URL_NAMES[entity.lower()]
        with self._lock:
            realm = self.realms[realm_id]
            old = realm.get(name, obj_id)
            if old is None:
                raise KeyError(f"{name} {obj_id}")
            ctx = Ctx(realm, self._today(), old=old, allow_duplicate_doc=True)
            new = prepare(name, merge(name, old, changes, sparse=True), ctx)
            realm.touch(new, self.clock.now())
            realm.objects[name][new["Id"]] = new
            self._after_write(realm, name, new, old)
            return copy.deepcopy(new)

    def delete_as_user(self, realm_id: str, entity: str, obj_id: str) -> dict[str, Any]:
        """Delete a transaction as someone in the QBO UI would: refused when paid or in closed books."""
        name = URL_NAMES[entity.lower()]
        with self._lock:
            realm = self.realms[realm_id]
            obj = realm.get(name, obj_id)
            if obj is None:
                raise KeyError(f"{name} {obj_id}")
            return self._delete(realm, name, {"Id": obj["Id"], "SyncToken": obj["SyncToken"]})[name]

    def mark_bill_paid(self, realm_id: str, bill_id: str, amount: Any = None) -> dict[str, Any]:
        """Record a BillPayment as if the bill was paid in QBO: the open balance, or `amount` of it."""
        with self._lock:
            realm = self.realms[realm_id]
            bill = realm.get("Bill", bill_id)
            if bill is None:
                raise KeyError(f"Bill {bill_id}")
            balance = Decimal(str(bill["Balance"]))
            paying = balance if amount is None else Decimal(str(amount)).quantize(Decimal("0.01"))
            if not 0 < paying <= balance:
                raise ValueError(f"a payment must be more than 0 and at most the balance {balance}")
            amount = float(paying)
            payment = {
                "VendorRef": bill["VendorRef"],
                "PayType": "Check",
                "TxnDate": self._today().isoformat(),
                "CurrencyRef": bill.get("CurrencyRef"),
                "TotalAmt": amount,
                "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
            }
            paid = realm.insert("BillPayment", payment, self.clock.now())
            bill.setdefault("LinkedTxn", []).append({"TxnId": paid["Id"], "TxnType": "BillPayment"})
            left = balance - paying
            rate = Decimal(str(bill.get("ExchangeRate", 1)))
            bill["Balance"] = float(left)
            bill["HomeBalance"] = float((left * rate).quantize(Decimal("0.01")))
            realm.touch(bill, self.clock.now())
            return copy.deepcopy(bill)

    def apply_vendor_credit(self, realm_id: str, credit_id: str, bill_id: str) -> dict[str, Any]:
        """Apply a vendor credit to a bill of the same vendor, as Pay bills in QBO does: one BillPayment
        whose lines link the bill and the credit; both balances drop by what was applied."""
        with self._lock:
            realm = self.realms[realm_id]
            credit, bill = realm.get("VendorCredit", credit_id), realm.get("Bill", bill_id)
            if credit is None or bill is None:
                raise KeyError(f"VendorCredit {credit_id} or Bill {bill_id}")
            amount = min(credit["Balance"], bill["Balance"])
            payment = {
                "VendorRef": bill["VendorRef"],
                "PayType": "Check",
                "TxnDate": self._today().isoformat(),
                "CurrencyRef": bill.get("CurrencyRef"),
                "TotalAmt": 0.0,
                "Line": [
                    {"Amount": amount, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]},
                    {"Amount": amount, "LinkedTxn": [{"TxnId": credit["Id"], "TxnType": "VendorCredit"}]},
                ],
            }
            paid = realm.insert("BillPayment", payment, self.clock.now())
            for obj in (credit, bill):
                obj.setdefault("LinkedTxn", []).append({"TxnId": paid["Id"], "TxnType": "BillPayment"})
                obj["Balance"] = float(Decimal(str(obj["Balance"])) - Decimal(str(amount)))
                realm.touch(obj, self.clock.now())
            return copy.deepcopy(credit)

    def set_book_close_date(self, realm_id: str, when: date | None) -> None:
        with self._lock:
            self.realms[realm_id].book_close_date = when

    def set_preferences(
        self,
        realm_id: str,
        *,
        multicurrency_enabled: bool | None = None,
        warn_duplicate_bill_number: bool | None = None,
        **tracking: bool | None,
    ) -> dict[str, Any]:
        """Flip company settings as the QBO admin would; returns the Preferences answer.

        tracking: class_tracking_per_txn, class_tracking_per_line, track_departments (§14)."""
        with self._lock:
            realm = self.realms[realm_id]
            if multicurrency_enabled is not None:
                if realm.multicurrency_enabled and not multicurrency_enabled:
                    raise ValueError("multicurrency cannot be turned off once enabled (reference §10)")
                realm.multicurrency_enabled = multicurrency_enabled
            if warn_duplicate_bill_number is not None:
                realm.warn_duplicate_bill_number = warn_duplicate_bill_number
            for name, value in tracking.items():
                if name not in ("class_tracking_per_txn", "class_tracking_per_line", "track_departments"):
                    raise ValueError(f"unknown preference {name!r}")
                if value is not None:
                    setattr(realm, name, value)
            return preferences(realm)

    def expire_tokens(self, realm_id: str | None = None) -> int:
        return self.auth.expire_access(realm_id)

    def revoke_tokens(self, realm_id: str | None = None) -> int:
        return self.auth.revoke_realm(realm_id)

    def stats(self, realm_id: str) -> dict[str, Any]:
        with self._lock:
            return self.realms[realm_id].stats_dict()

    def reset_limits(self) -> None:
        self._window.clear()
        self._batch_window.clear()


def _po_ids(bill: dict[str, Any] | None) -> set[str]:
    if not bill:
        return set()
    return {
        link["TxnId"]
        for line in bill.get("Line", [])
        for link in line.get("LinkedTxn", [])
        if link.get("TxnType") == "PurchaseOrder"
    }


def _allow_duplicates(params: Any) -> bool:
    return "allowduplicatedocnum" in str(params.get("include", "")).lower()
