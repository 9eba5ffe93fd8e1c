"""The append-only audit trail: every read, decision, mapping used, request and response.

Bodies are stored as JSON with secrets redacted; Decimal and dates become strings so what is
stored is exactly what can be shown.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from config.secret_names import CREDENTIAL_MIN_LENGTH, OAUTH_WORD_KEYS, SECRET_KEYS
from connector.models import AuditEvent, SyncRun
from tenants.models import Organisation

# "code" is an OAuth authorization code only in the OAuth callback; in the documents we audit it is a
# Procurify account code ("6550") or a QuickBooks error code ("6140"), which a finance user must see.
# It is masked only when its value is shaped like a credential: long and opaque (config/secret_names.py).
CREDENTIAL_SHAPED_KEYS = OAUTH_WORD_KEYS
REDACTED = "[redacted]"
MAX_STRING = 4000


def redact(value: Any) -> Any:
    """A JSON-safe copy with secret-looking keys replaced (never trust a body not to carry one)."""
    if isinstance(value, dict):
        return {str(k): REDACTED if _is_secret(str(k).lower(), v) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return value[:MAX_STRING]
    if value is None or isinstance(value, bool | int | float):
        return value
    if hasattr(value, "model_dump"):
        return redact(value.model_dump(mode="json", by_alias=True, exclude_none=True))
    return str(value)[:MAX_STRING]


def _is_secret(key: str, value: Any) -> bool:
    if key in SECRET_KEYS:
        return True
    if key in CREDENTIAL_SHAPED_KEYS:
        return isinstance(value, str) and len(value) >= CREDENTIAL_MIN_LENGTH and " " not in value
    return False


class Audit:
    """Writes events for one organisation (and run); the engine passes it everywhere."""

    def __init__(self, organisation: Organisation, run: SyncRun | None = None) -> None:
        self.organisation = organisation
        self.run = run

    def record(
        self,
        kind: str,
        message: str,
        *,
        object_type: str = "",
        procurify_id: str = "",
        data: Any = None,
    ) -> None:
        AuditEvent.objects.create(
            organisation=self.organisation,
            run=self.run,
            object_type=object_type,
            procurify_id=str(procurify_id),
            kind=kind,
            message=message[:500],
            data=redact(data) if data is not None else {},
        )

    def record_many(self, events: list[tuple[str, str, str, str, Any]]) -> None:
        """(object_type, procurify_id, kind, message, data) rows in one INSERT: a batch of 30 writes
        would otherwise cost 60 round trips to the database for its request/response events."""
        AuditEvent.objects.bulk_create(
            AuditEvent(
                organisation=self.organisation,
                run=self.run,
                object_type=object_type,
                procurify_id=str(procurify_id),
                kind=kind,
                message=message[:500],
                data=redact(data) if data is not None else {},
            )
            for object_type, procurify_id, kind, message, data in events
        )

    def for_record(self, object_type: str, procurify_id: str) -> RecordAudit:
        return RecordAudit(self, object_type, str(procurify_id))


class RecordAudit:
    """The audit trail bound to one record, so call sites stay one line."""

    def __init__(self, audit: Audit, object_type: str, procurify_id: str) -> None:
        self.audit, self.object_type, self.procurify_id = audit, object_type, procurify_id

    def __call__(self, kind: str, message: str, data: Any = None) -> None:
        self.audit.record(
            kind, message, object_type=self.object_type, procurify_id=self.procurify_id, data=data
        )
