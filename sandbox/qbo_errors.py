"""QBO fault bodies, built to the error catalogue (reference §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

try:
    from zoneinfo import ZoneInfo

    PACIFIC: Any = ZoneInfo("America/Los_Angeles")
except Exception:  # pragma: no cover - no tz database on the host
    from datetime import timedelta, timezone

    PACIFIC = timezone(timedelta(hours=-7))

MADE_INACTIVE = (
    "Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


def qbo_time(when: datetime, millis: bool = True) -> str:
    """QBO stamps times in Pacific time with an offset, whatever the company's zone (§12.13)."""
    local = when.astimezone(PACIFIC)
    return local.isoformat(timespec="milliseconds" if millis else "seconds")


class QBOFault(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        element: str = "",
        *,
        status: int = 400,
        type_: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code, self.message, self.detail, self.element = code, message, detail, element
        self.status, self.type = status, type_

    def payload(self, now: datetime) -> dict[str, Any]:
        return {"Fault": self.fault(), "time": qbo_time(now)}

    def fault(self) -> dict[str, Any]:
        error = {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}
        return {"Error": [error], "type": self.type}


def gateway_payload(status: int, code: str, name: str, detail: str, type_: str, now: datetime) -> dict:
    """Gateway faults (401, 403, 429) use the lower-case shape (§5)."""
    message = f"message={name}; errorCode={int(code):06d}; statusCode={status}"
    return {
        "fault": {"error": [{"message": message, "detail": detail, "code": code}], "type": type_},
        "time": qbo_time(now),
    }


def stale() -> QBOFault:
    return QBOFault(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and QuickBooks User were working on this at the same time. "
        "QuickBooks User finished before you did, so your work was not saved.",
    )


def duplicate_name(existing_id: str) -> QBOFault:
    return QBOFault(
        "6240",
        "Duplicate Name Exists Error",
        "The name supplied already exists. : Another customer, vendor or employee is already using "
        f"this name. Please use a different name. Id={existing_id}",
    )


def not_found(element: str = "") -> QBOFault:
    return QBOFault("610", "Object Not Found", f"Object Not Found : {MADE_INACTIVE}", element)


def invalid_reference(element: str) -> QBOFault:
    return QBOFault(
        "2500", "Invalid Reference Id", f"Invalid Reference Id : {element} assigned is invalid", element
    )


def required(element: str) -> QBOFault:
    return QBOFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def bad_length(element: str, maximum: int, supplied: int) -> QBOFault:
    return QBOFault(
        "2050",
        "Invalid String Length",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} supported. "
        f"Supplied length:{supplied}",
        element,
    )


def invalid_string(element: str, reason: str) -> QBOFault:
    return QBOFault("2040", "Invalid String", f"Invalid String : {reason}", element)


def invalid_value(element: str, reason: str) -> QBOFault:
    return QBOFault("2010", "Request has invalid or unsupported property", reason, element)


def wrong_account_type(element: str) -> QBOFault:
    return QBOFault(
        "6430",
        "Invalid account type used",
        "Invalid account type used : You need to select a different type of account for this transaction.",
        element,
    )


def period_closed() -> QBOFault:
    return QBOFault(
        "6200",
        "Account Period Closed",
        "Account Period Closed, Cannot update : The account period has closed and the books are locked.",
    )


def duplicate_doc_number(doc: str, txn_type: str, txn_id: str) -> QBOFault:
    return QBOFault(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has already "
        f"been used. DocNumber={doc} is assigned to TxnType={txn_type} with TxnId={txn_id}",
        "DocNumber",
    )


def business(detail: str, element: str = "") -> QBOFault:
    return QBOFault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def negative_total(entity: str) -> QBOFault:
    # A Bill or VendorCredit must not total below zero; a credit is its own entity (docs/qbo-facts.md,
    # "Credits"). The code is QBO's generic business-rule 6000; the exact wording is unverified.
    return business(f"Transaction amount must be positive. A {entity} cannot total less than zero.", "Line")


def multicurrency_off(currency: str, element: str) -> QBOFault:
    return business(
        f"Multicurrency is not enabled for this company; {currency} is not its home currency.", element
    )


def missing_name() -> QBOFault:
    return QBOFault(
        "6080",
        "Missing DisplayName",
        "You must specify a DisplayName or at least one of Title, GivenName, MiddleName, FamilyName, Suffix",
        "DisplayName",
    )


def unsupported(detail: str) -> QBOFault:
    return QBOFault("500", "Unsupported Operation", detail)


def batch_too_large(size: int, limit: int) -> QBOFault:
    return QBOFault(
        "1040", "Batch size exceeds allowed limit", f"The batch size {size} exceeds the maximum of {limit}"
    )


def query_parse(detail: str) -> QBOFault:
    return QBOFault("4000", "Error parsing query", f"QueryParserError: {detail}")


def query_invalid(detail: str) -> QBOFault:
    return QBOFault("4001", "Invalid query", f"QueryValidationError: {detail}")


def system_error() -> QBOFault:
    return QBOFault(
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your data.",
        status=500,
        type_="SystemFault",
    )
