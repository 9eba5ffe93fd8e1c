"""One exception family for both API clients, arranged by what the caller should do.

- ``Retryable``: try again later (429, 5xx, timeouts, network); carries ``retry_after``.
- ``Permanent``: the request itself is wrong or refused (other 4xx); retrying will not help.
- ``ReauthRequired``: the connection's authorisation is gone (invalid_grant, revoked consent,
  a 401 that survives one token renewal); a person has to reconnect.
- ``RecordHeld``: one record cannot be synced; the run continues and the record is held with a
  plain-language sentence built from a stable reason code (``REASONS`` below).

Messages are sentences a customer can read (style.md item 12); ``code`` is a stable string.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any


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
    """One record cannot be synced now; ``message`` is the sentence shown next to it."""

    def __init__(self, reason_code: str, message: str, **kwargs: Any) -> None:
        super().__init__(message, code=reason_code, **kwargs)
        self.reason_code = reason_code

    @classmethod
    def because(cls, reason_code: str, **params: Any) -> RecordHeld:
        """Build a hold from a reason code and the values its sentence needs."""
        return cls(reason_code, reason_sentence(reason_code, **params), detail=params or None)


# Stable reason codes → sentence templates (style.md item 12). The engine stores the code and
# the rendered sentence on the held record; templates may only use the named parameters.
REASONS: dict[str, str] = {
    "vendor_unmapped": "Vendor '{vendor}' is not mapped to a QuickBooks vendor. Map it on the Vendors tab.",
    "vendor_inactive": (
        "Vendor '{vendor}' is inactive in QuickBooks. Reactivate it in QuickBooks or map it to another "
        "vendor on the Vendors tab."
    ),
    "account_unmapped": (
        "Account code '{account}' is not mapped to a QuickBooks account. Map it on the Accounts tab."
    ),
    "account_inactive": (
        "Account code '{account}' is mapped to a QuickBooks account that is inactive. Reactivate it in "
        "QuickBooks or change the mapping on the Accounts tab."
    ),
    "qbo_validation": "QuickBooks rejected this record: {detail}",
    "period_closed": (
        "QuickBooks books are closed for {date}. Change the closing date in QuickBooks or the bill's date "
        "in Procurify."
    ),
    "duplicate_vendor_name": (
        "QuickBooks already has a customer, vendor or employee named '{vendor}'. Map the vendor by hand on "
        "the Vendors tab or rename one of them."
    ),
    "bill_paid_in_qbo": (
        "Bill '{bill}' is already paid in QuickBooks, so it was not changed. Edit it in QuickBooks if needed."
    ),
    "changed_on_both_sides": (
        "Changed on both sides: {bill} was changed in QuickBooks by someone there and has since changed in "
        "Procurify too. Nothing was overwritten: compare both changes and choose which version QuickBooks "
        "keeps."
    ),
    "deleted_in_qbo": (
        "Deleted in QuickBooks: {bill} was deleted there by someone, and has since changed in Procurify. It "
        "is not re-created on its own: re-create it on the 'Changed in QuickBooks' page, or leave it deleted."
    ),
    "books_closed": (
        "The books are closed through {close_date}; this bill is dated {bill_date}. Choose 'post on the "
        "first open day' in the sync settings, or reopen the books in QuickBooks."
    ),
    "bill_voided_in_procurify": (
        "Denied or withdrawn in Procurify after it reached QuickBooks: {bill} is still an open payable "
        "there. Delete it in QuickBooks or keep it."
    ),
    "malformed_record": "Procurify sent {record} in a form we could not read: {error}",
    "bill_total_mismatch": (
        "The lines of {bill} add up to {lines}, but Procurify says the bill totals {total}, so it was not "
        "sent to QuickBooks. Check the bill's lines and allocations in Procurify."
    ),
    "stale_sync_token_exhausted": (
        "Bill '{bill}' kept changing in QuickBooks while we updated it. It will be retried on the next run."
    ),
    "duplicate_docnumber": (
        "QuickBooks already has a bill numbered '{doc_number}' for this vendor. Check for a duplicate in "
        "QuickBooks."
    ),
    "vendor_currency_mismatch": (
        "QuickBooks only accepts a vendor's bills in the vendor's own currency: {bill} is in "
        "{bill_currency}, but its QuickBooks vendor '{vendor}' bills in {vendor_currency}. On the Vendors "
        "tab, map it to a {bill_currency} vendor or create '{twin}' in QuickBooks."
    ),
    "multicurrency_off": (
        "Multicurrency is off in QuickBooks (home currency {home}), and {record} is in {currency}. Turn on "
        "multicurrency in QuickBooks (Settings, Advanced, Currency); the record then syncs by itself."
    ),
    "no_payables_account": (
        "QuickBooks has no Accounts Payable account in {currency} for {bill}. Enter one {currency} bill in "
        "QuickBooks (it creates the account) or add the account; the bill then syncs by itself."
    ),
    "exchange_rate_base_mismatch": (
        "Procurify converts {bill} (in {currency}) to {procurify_base}, but QuickBooks' home currency is "
        "{home}, so Procurify's exchange rate would be wrong in QuickBooks and the bill was not sent. Enter "
        "this bill in QuickBooks by hand, or make the two base currencies agree."
    ),
    "bill_total_missing": (
        "Procurify did not give a total for {bill}, so we cannot prove its lines are complete; it was not "
        "sent. Open and re-save the bill in Procurify."
    ),
    # Sales tax outside the US, classes and locations (connector/sync/tax.py, dimensions.py).
    "tax_unmapped": (
        "Tax {tax} has no QuickBooks tax code yet, so {bill} was not sent. Choose one on the Tax, classes "
        "and locations page; the bill then syncs by itself."
    ),
    "tax_code_unusable": (
        "Tax {tax} is mapped to QuickBooks tax code '{code}', which is inactive or has no purchase rate, so "
        "{bill} was not sent. Choose another code on the Tax, classes and locations page."
    ),
    "tax_total_mismatch": (
        "QuickBooks would total {bill} at {qbo_total} with {qbo_tax} of tax (it works tax out per rate on "
        "the sum of the lines), but Procurify says {total} with {tax} of tax, so it was not sent. Check the "
        "tax codes mapped on the Tax, classes and locations page, or enter this bill by hand."
    ),
    "class_unmapped": (
        "Department '{department}' has no QuickBooks class yet, so {bill} was not sent. Choose one on the "
        "Tax, classes and locations page."
    ),
    "class_inactive": (
        "Department '{department}' is mapped to QuickBooks class '{name}', which is inactive, so {bill} was "
        "not sent. Reactivate it in QuickBooks or choose another class."
    ),
    "location_unmapped": (
        "Location '{location}' has no QuickBooks location yet, so {bill} was not sent. Choose one on the "
        "Tax, classes and locations page."
    ),
    "location_inactive": (
        "Location '{location}' is mapped to QuickBooks location '{name}', which is inactive, so {bill} was "
        "not sent. Reactivate it in QuickBooks or choose another location."
    ),
    "one_location_per_bill": (
        "QuickBooks takes one location per bill, but {bill} is split across the locations {locations}, so "
        "it was not sent. Split the bill in Procurify or enter it by hand."
    ),
    "one_class_per_bill": (
        "One class per bill: {why}, but {bill} is split across the classes {classes}, so it was not sent. "
        "Put a class on each line (Tax, classes and locations page) if QuickBooks tracks classes per line, "
        "or enter it by hand."
    ),
    # Payments (connector/sync/payments.py): a Procurify payment not recorded in QuickBooks yet.
    "payment_account_unmapped": (
        "Payment of {amount} for {bill} by {method} is waiting for a {account_kind} to be chosen for "
        "{method} payments. Choose it on the Payment methods tab; the payment is then recorded by itself."
    ),
    "payment_account_unusable": (
        "Payment of {amount} for {bill} by {method} was not recorded: the account chosen for {method} "
        "payments ({account}) is no longer an active Bank or Credit Card account in QuickBooks. Choose "
        "another on the Payment methods tab."
    ),
    "payment_waiting_for_bill": (
        "Payment of {amount} for {bill} is waiting for the bill to reach QuickBooks; it is recorded on the "
        "run after the bill is written."
    ),
    "payment_currency_mismatch": (
        "Payment of {amount} for {bill} was made in {payment_currency}, but the bill is in {bill_currency}. "
        "QuickBooks pays a bill in the bill's currency, so the payment was not recorded; record it in "
        "QuickBooks by hand (Pay bills)."
    ),
    "payment_split_unknown": (
        "Payment of {amount} covers {count} bills ({bill}) totalling {total}. Procurify does not say how "
        "much of it went to each bill, so it was not recorded; record it in QuickBooks by hand (Pay bills)."
    ),
    "payment_date_missing": (
        "Payment of {amount} for {bill} has neither a posted nor a processing date in Procurify, so it was "
        "not recorded: we never guess a payment's date. It is retried on the next run."
    ),
    # Invoice files (connector/sync/attachments.py): held on the file, never on its bill.
    "attachment_type_not_allowed": (
        "The invoice file {file} was not attached to {bill}: QuickBooks accepts PDF, images (JPEG, PNG, "
        "GIF, TIFF), Word, Excel, CSV, text, RTF, XML, ODS, AI and EPS files only. The bill itself is in "
        "QuickBooks; attach a copy in one of those formats there if it is needed."
    ),
    "attachment_too_large": (
        "The invoice file {file} ({size}) was not attached to {bill}: QuickBooks takes files up to {limit} "
        "per upload. The bill itself is in QuickBooks; attach a smaller copy there if it is needed."
    ),
    "attachment_refused": (
        "QuickBooks refused the invoice file {file} for {bill}: {detail} The bill itself is in QuickBooks; "
        "the file is retried automatically within six hours."
    ),
    "attachment_unreachable": (
        "The invoice file {file} could not be downloaded from Procurify for {bill}: {detail} It is retried "
        "on the next sync."
    ),
    "attachment_address_refused": (
        "The invoice file {file} was not attached to {bill}: Procurify gave a download address we do not "
        "contact ({detail}). The bill itself is in QuickBooks."
    ),
    "vendor_currency_unknown": (
        "Procurify does not say which currency vendor '{vendor}' bills in, and QuickBooks fixes a vendor's "
        "currency when it is created. Set the vendor's currency in Procurify or map the vendor by hand."
    ),
}


def reason_sentence(reason_code: str, **params: Any) -> str:
    """Render the sentence for ``reason_code``; a missing parameter shows as '?' rather than crashing."""
    template = REASONS[reason_code]
    return template.format_map(_Lenient(params))


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


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
