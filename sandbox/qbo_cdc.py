"""QBO's change data capture, `GET /cdc?entities=…&changedSince=…` (reference §8).

Changed objects come back in full, deleted ones as `{"Id", "status": "Deleted", "MetaData"}`. The
look-back is 30 days and one answer holds at most 1000 objects across all entities named; the sandbox
refuses a changedSince older than that window (the stricter reading: Intuit's page says only that
changes older than 30 days are not returned) and answers the oldest 1000 changes when there are more.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from . import qbo_errors as err
from .qbo_errors import qbo_time
from .qbo_store import URL_NAMES, Realm

LOOK_BACK = timedelta(days=30)
MAX_OBJECTS = 1000
# Entities the fake keeps; CDC is refused for the ones Intuit does not support (e.g. TaxCode).
# Tax codes and rates are among the entities CDC does not cover (docs/qbo-facts.md, "Drift").
SUPPORTED = frozenset(URL_NAMES.values()) - {"TaxCode", "TaxRate", "Attachable"}


def parse_since(value: str | None, now: datetime) -> datetime:
    if not value:
        raise err.required("changedSince")
    try:
        since = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise err.invalid_value("changedSince", f"Invalid date : {value}") from None
    if since.tzinfo is None:
        raise err.invalid_value("changedSince", f"changedSince needs a time zone offset: {value}")
    if since < now - LOOK_BACK:
        raise err.invalid_value("changedSince", "changedSince cannot be more than 30 days in the past")
    return since


def parse_entities(value: str | None) -> list[str]:
    if not value or not value.strip():
        raise err.required("entities")
    names: list[str] = []
    for raw in value.split(","):
        name = URL_NAMES.get(raw.strip().lower())
        if name is None or name not in SUPPORTED:
            raise err.invalid_value("entities", f"CDC is not supported for entity {raw.strip()!r}")
        if name not in names:
            names.append(name)
    return names


def changes(realm: Realm, entities: list[str], since: datetime, now: datetime) -> dict[str, Any]:
    """The CDCResponse body: per entity, the objects changed or deleted since `since`, oldest first,
    1000 objects at most across all entities."""
    found: list[tuple[datetime, str, dict[str, Any]]] = []
    for entity in entities:
        for obj in realm.objects[entity].values():
            stamp = _stamp(obj)
            if stamp >= since:
                found.append((stamp, entity, copy.deepcopy(obj)))
        for tomb in realm.deleted[entity].values():
            stamp = _stamp(tomb)
            if stamp >= since:
                found.append((stamp, entity, copy.deepcopy(tomb)))
    found.sort(key=lambda row: (row[0], row[1], int(row[2]["Id"])))
    kept = found[:MAX_OBJECTS]
    responses = []
    for entity in entities:
        rows = [obj for _, name, obj in kept if name == entity]
        block: dict[str, Any] = {"startPosition": 1, "maxResults": len(rows), "totalCount": len(rows)}
        if rows:
            block = {entity: rows, **block}
        responses.append(block)
    return {"CDCResponse": [{"QueryResponse": responses}], "time": qbo_time(now)}


def _stamp(obj: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(obj["MetaData"]["LastUpdatedTime"])


def tombstone(obj: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What CDC shows of a deleted object: its Id, the status and when it was deleted."""
    meta = {**obj.get("MetaData", {}), "LastUpdatedTime": qbo_time(now, millis=False)}
    return {"Id": obj["Id"], "status": "Deleted", "domain": "QBO", "MetaData": meta}
