"""One exception family for both API clients, arranged by what the caller should do.

- ``Retryable``: try again later (429, 5xx, timeouts, network); carries ``retry_after``.
- ``Permanent``: the request itself is wrong or refused (other 4xx); retrying will not help.
- ``ReauthRequired``: the connection's authorisation is gone (invalid_grant, revoked consent,
  a 401 that survives one token renewal); a person has to reconnect.
- ``RecordHeld``: one record cannot be synced; the run continues and the record is held with a
  plain-language sentence built from a stable reason code (the registry in connector/hold_reasons.py).

Messages are sentences a customer can read (style.md item 12); ``code`` is a stable string.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from connector.hold_reasons import ReasonCode, sentence


class ConnectorError(Exception):
    """Root of every error the clients raise on purpose."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        detail: Any = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail
        self.status = status

    def __str__(self) -> str:
        return self.message


class Retryable(ConnectorError):
    """Transient: 429, 5xx, timeouts and network failures. ``retry_after`` is in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Permanent(ConnectorError):
    """The remote refused the request for a reason retrying will not fix (other 4xx)."""


class ReauthRequired(ConnectorError):
    """The connection must be re-authorised by a person (invalid_grant, revoked consent, repeated 401)."""


class RecordHeld(ConnectorError):
    """One record cannot be synced now; ``message`` is the sentence shown next to it.

    The code must be registered (ValueError otherwise): a hold nobody can title or explain is a bug.
    """

    def __init__(self, reason_code: str, message: str, **kwargs: Any) -> None:
        code = ReasonCode(reason_code)
        super().__init__(message, code=code, **kwargs)
        self.reason_code = code

    @classmethod
    def because(cls, reason_code: str, /, **params: Any) -> RecordHeld:
        """Build a hold from a reason code and the values its sentence needs (all of them: MissingParams)."""
        return cls(reason_code, sentence(reason_code, **params), detail=params or None)


@dataclass(frozen=True)
class FaultError:
    """One entry of a QBO Fault's ``Error`` list (quickbooks-online.md §5); ``code`` is a string."""

    code: str
    message: str
    detail: str = ""
    element: str = ""

    @property
    def text(self) -> str:
        return f"{self.message} {self.detail}".lower()


class QBOFault(Permanent):
    """A QBO Fault body that is not transient and not an auth failure (validation, business rules)."""

    def __init__(
        self,
        errors: Iterable[FaultError],
        *,
        fault_type: str | None = None,
        status: int | None = None,
        intuit_tid: str | None = None,
    ) -> None:
        self.errors = list(errors)
        self.fault_type = fault_type
        self.intuit_tid = intuit_tid
        first = self.errors[0] if self.errors else None
        message = _fault_message(first, status)
        super().__init__(message, code=first.code if first else None, detail=self.errors, status=status)

    def codes(self) -> set[str]:
        return {error.code for error in self.errors}

    def _matches(self, codes: Collection[str] = (), phrases: Collection[str] = ()) -> bool:
        return any(e.code in codes or any(p in e.text for p in phrases) for e in self.errors)

    # The helpers below branch on code AND message because codes are reused across situations
    # (5010 was reported for "Account Period Closed"; 6210 is both closed books and duplicate
    # DocNumber depending on the source) — quickbooks-online.md §4, §5, §12.7, §12.14.
    def is_period_closed(self) -> bool:
        return self._matches(phrases=("period closed",))

    def is_stale_object(self) -> bool:
        return not self.is_period_closed() and self._matches(("5010",), ("stale object",))

    def is_duplicate_name(self) -> bool:
        return self._matches(("6240",), ("duplicate name exists",))

    def is_inactive_reference(self) -> bool:
        # 610 "Object Not Found" and 2500 "Invalid Reference Id" both come back for references
        # made inactive in QBO (§5 table, §12.10); only 2500 needs the text to tell it from a typo.
        return self._matches(("610",), ("made inactive",)) or any(
            e.code == "2500" and "inactive" in e.text for e in self.errors
        )

    def is_duplicate_docnumber(self) -> bool:
        return self._matches(("6140",), ("duplicate document number", "duplicate doc num"))

    def is_duplicate_request(self) -> bool:
        # 600: the requestid was already used in this realm, i.e. the write already happened (§2).
        return self._matches(("600",), ("duplicate request id",))

    def is_throttled(self) -> bool:
        return self._matches(("3001",), ("throttleexceeded", "request limit was reached"))


def _fault_message(first: FaultError | None, status: int | None) -> str:
    if first is None:
        return f"QuickBooks refused the request (HTTP {status}) without saying why."
    detail = f": {first.detail}" if first.detail and first.detail != first.message else ""
    return f"QuickBooks refused the request ({first.code} {first.message}{detail})."


class NotConnected(Permanent):
    """The organisation has no usable connection for this system; a person has to set it up."""
