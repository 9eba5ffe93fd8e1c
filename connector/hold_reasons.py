"""Why a record is held: one registry of hold reasons, read by the engine, the pages and the e-mails.

Each reason has a stable code (stored on HeldRecord.reason_code, style.md item 12), a title (the
heading of its group on the held list and in e-mails), one sentence template whose named parameters
the raiser must pass, what it waits on, and how it is retried. Adding a reason means adding one
`ReasonCode` member and one `HoldReason` below; nothing else spells a code's sentence or title.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import models


class WaitsOn(StrEnum):
    """Who or what has to move before the record can sync."""

    MAPPING = "mapping"  # a mapping or choice on one of our pages (vendors, accounts, tax, payment methods)
    SETTING = "setting"  # a sync setting
    PERSON = "person"  # a person's decision: keep, delete, or enter it by hand
    QUICKBOOKS = "quickbooks"  # something to change (or that changes) in QuickBooks
    PROCURIFY = "procurify"  # something to change in Procurify
    RECORD = "record"  # another record reaching QuickBooks first (a payment's bill)
    RETRY = "retry"  # nothing but a later attempt (an unexpected failure)


class Retry(StrEnum):
    """When a held record is tried again without a person pressing "Retry"."""

    ON_RELEASE = "on_release"  # when what it waits on is fixed (a saved mapping releases it)
    EACH_RUN = "each_run"  # every run: the cause was a blip on Procurify's side
    # After holds.QBO_SIDE_COOLDOWN: resending at once only earns the same refusal.
    AFTER_COOLDOWN = "after_cooldown"


class MissingParams(ValueError):
    """A hold was raised without a value its sentence needs: a bug in the raiser, not in the data."""


class ReasonCode(models.TextChoices):
    """Stable codes stored on HeldRecord.reason_code; the label is the title people read."""

    VENDOR_UNMAPPED = "vendor_unmapped", "Vendor not mapped"
    VENDOR_INACTIVE = "vendor_inactive", "Vendor inactive in QuickBooks"
    ACCOUNT_UNMAPPED = "account_unmapped", "Account code not mapped"
    ACCOUNT_INACTIVE = "account_inactive", "Account inactive in QuickBooks"
    QBO_VALIDATION = "qbo_validation", "Rejected by QuickBooks"
    PERIOD_CLOSED = "period_closed", "Books closed in QuickBooks"
    DUPLICATE_VENDOR_NAME = "duplicate_vendor_name", "Vendor name already used in QuickBooks"
    BILL_PAID_IN_QBO = "bill_paid_in_qbo", "Already paid in QuickBooks"
    CHANGED_ON_BOTH_SIDES = "changed_on_both_sides", "Changed on both sides"
    DELETED_IN_QBO = "deleted_in_qbo", "Deleted in QuickBooks"
    BOOKS_CLOSED = "books_closed", "Books closed for this date"
    BILL_VOIDED_IN_PROCURIFY = "bill_voided_in_procurify", "Withdrawn or denied in Procurify"
    MALFORMED_RECORD = "malformed_record", "Unreadable data from Procurify"
    BILL_TOTAL_MISMATCH = "bill_total_mismatch", "Lines do not add up to the bill's total"
    STALE_SYNC_TOKEN_EXHAUSTED = "stale_sync_token_exhausted", "Kept changing in QuickBooks"
    DUPLICATE_DOCNUMBER = "duplicate_docnumber", "Invoice number already used in QuickBooks"
    VENDOR_CURRENCY_MISMATCH = "vendor_currency_mismatch", "Vendor bills in another currency in QuickBooks"
    MULTICURRENCY_OFF = "multicurrency_off", "Multicurrency is off in QuickBooks"
    NO_PAYABLES_ACCOUNT = "no_payables_account", "No Accounts Payable account in this currency"
    EXCHANGE_RATE_BASE_MISMATCH = (
        "exchange_rate_base_mismatch",
        "Procurify and QuickBooks convert to different currencies",
    )
    BILL_TOTAL_MISSING = "bill_total_missing", "Procurify gave no total"
    TAX_UNMAPPED = "tax_unmapped", "Tax has no QuickBooks tax code"
    TAX_CODE_UNUSABLE = "tax_code_unusable", "Tax code inactive or not for purchases"
    TAX_TOTAL_MISMATCH = "tax_total_mismatch", "QuickBooks' tax would differ from Procurify's"
    CLASS_UNMAPPED = "class_unmapped", "Department has no QuickBooks class"
    CLASS_INACTIVE = "class_inactive", "Class inactive in QuickBooks"
    LOCATION_UNMAPPED = "location_unmapped", "Location has no QuickBooks location"
    LOCATION_INACTIVE = "location_inactive", "Location inactive in QuickBooks"
    ONE_LOCATION_PER_BILL = "one_location_per_bill", "Bill spans several locations"
    ONE_CLASS_PER_BILL = "one_class_per_bill", "Bill spans several classes"
    PAYMENT_ACCOUNT_UNMAPPED = (
        "payment_account_unmapped",
        "Paid in Procurify — payment not yet recorded in QuickBooks (no account)",
    )
    PAYMENT_ACCOUNT_UNUSABLE = (
        "payment_account_unusable",
        "Paid in Procurify — payment account unusable in QuickBooks",
    )
    PAYMENT_WAITING_FOR_BILL = (
        "payment_waiting_for_bill",
        "Paid in Procurify — waiting for the bill to reach QuickBooks",
    )
    PAYMENT_CURRENCY_MISMATCH = "payment_currency_mismatch", "Paid in another currency than the bill"
    PAYMENT_SPLIT_UNKNOWN = "payment_split_unknown", "One payment for several bills, split unknown"
    PAYMENT_DATE_MISSING = "payment_date_missing", "Payment without a date"
    ATTACHMENT_TYPE_NOT_ALLOWED = (
        "attachment_type_not_allowed",
        "Invoice file of a type QuickBooks does not take",
    )
    ATTACHMENT_TOO_LARGE = "attachment_too_large", "Invoice file too large for QuickBooks"
    ATTACHMENT_REFUSED = "attachment_refused", "Invoice file refused by QuickBooks"
    ATTACHMENT_UNREACHABLE = "attachment_unreachable", "Invoice file could not be downloaded"
    ATTACHMENT_ADDRESS_REFUSED = "attachment_address_refused", "Invoice file at an address we do not contact"
    VENDOR_CURRENCY_UNKNOWN = "vendor_currency_unknown", "Vendor's currency unknown"
    SYNC_FAILED = "sync_failed", "Could not be read or written"
    BILL_REMOVED_IN_PROCURIFY = (
        "bill_removed_in_procurify",
        "Removed in Procurify after it reached QuickBooks",
    )
    BILL_UNAPPROVED_AFTER_SYNC = (
        "bill_unapproved_after_sync",
        "Sent back for approval after it reached QuickBooks",
    )
    PAID_IN_PROCURIFY = "paid_in_procurify", "Paid in Procurify, payment not recorded in QuickBooks"
    CREDIT_SIGN_FLIP_LOCKED = "credit_sign_flip_locked", "Changed sign, but paid or applied in QuickBooks"
    BOOKS_UNKNOWN = "books_unknown", "QuickBooks settings not read yet"


@dataclass(frozen=True)
class HoldReason:
    code: ReasonCode
    waits_on: WaitsOn
    template: str  # the sentence; only named {placeholders}
    retry: Retry = Retry.ON_RELEASE
    # A cause fixable in QuickBooks without us seeing it: retried on a cooldown, not every run (an
    # unchanged poll makes zero writes), and our copies of QuickBooks' lists are refreshed.
    qbo_side: bool = False
    removal: bool = False  # the bill left Procurify after it was written: a person deletes or keeps it
    # The held list's group sentence: "3 bills wait on <group> — <fix>." ({vendor}/{account}/{currency}).
    group: str = ""
    fix: str = ""

    @property
    def title(self) -> str:
        return str(self.code.label)

    @property
    def params(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.template) if name)

    def render(self, /, **params: Any) -> str:
        """The sentence; a missing parameter shows as '?' (for display of what was stored)."""
        return self.template.format_map(_Lenient(params))

    def sentence(self, /, **params: Any) -> str:
        """The sentence of a new hold: every parameter the template names must be given."""
        missing = self.params - params.keys()
        if missing:
            raise MissingParams(f"Hold reason {self.code.value!r} needs {sorted(missing)}.")
        return self.template.format(**params)


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


_SPECS: tuple[HoldReason, ...] = (
    HoldReason(
        ReasonCode.VENDOR_UNMAPPED,
        WaitsOn.MAPPING,
        "Vendor '{vendor}' is not mapped to a QuickBooks vendor. Map it on the Vendors tab.",
        group="vendor {vendor} being mapped",
        fix="map it",
    ),
    HoldReason(
        ReasonCode.VENDOR_INACTIVE,
        WaitsOn.MAPPING,
        (
            "Vendor '{vendor}' is inactive in QuickBooks. Reactivate it in QuickBooks or map it to another "
            "vendor on the Vendors tab."
        ),
        group="vendor {vendor} being active",
        fix="reactivate it or map it",
    ),
    HoldReason(
        ReasonCode.ACCOUNT_UNMAPPED,
        WaitsOn.MAPPING,
        "Account code '{account}' is not mapped to a QuickBooks account. Map it on the Accounts tab.",
        group="account code {account} being mapped",
        fix="map it",
    ),
    HoldReason(
        ReasonCode.ACCOUNT_INACTIVE,
        WaitsOn.MAPPING,
        (
            "Account code '{account}' is mapped to a QuickBooks account that is inactive. Reactivate it in "
            "QuickBooks or change the mapping on the Accounts tab."
        ),
        group="the QuickBooks account of code {account} being active",
        fix="reactivate it or remap",
    ),
    HoldReason(
        ReasonCode.QBO_VALIDATION,
        WaitsOn.QUICKBOOKS,
        "QuickBooks rejected this record: {detail}",
        retry=Retry.AFTER_COOLDOWN,
        qbo_side=True,
    ),
    HoldReason(
        ReasonCode.PERIOD_CLOSED,
        WaitsOn.QUICKBOOKS,
        (
            "QuickBooks books are closed for {date}. Change the closing date in QuickBooks or the bill's "
            "date in Procurify."
        ),
        retry=Retry.AFTER_COOLDOWN,
        qbo_side=True,
    ),
    HoldReason(
        ReasonCode.DUPLICATE_VENDOR_NAME,
        WaitsOn.MAPPING,
        (
            "QuickBooks already has a customer, vendor or employee named '{vendor}'. Map the vendor by hand "
            "on the Vendors tab or rename one of them."
        ),
        group="a free vendor name for {vendor}",
        fix="map it to the existing vendor",
    ),
    HoldReason(
        ReasonCode.BILL_PAID_IN_QBO,
        WaitsOn.PERSON,
        (
            "Bill '{bill}' is already paid in QuickBooks, so it was not changed. Edit it in QuickBooks if "
            "needed."
        ),
    ),
    HoldReason(
        ReasonCode.CHANGED_ON_BOTH_SIDES,
        WaitsOn.PERSON,
        (
            "Changed on both sides: {bill} was changed in QuickBooks by someone there and has since changed "
            "in Procurify too. Nothing was overwritten: compare both changes and choose which version "
            "QuickBooks keeps."
        ),
    ),
    HoldReason(
        ReasonCode.DELETED_IN_QBO,
        WaitsOn.PERSON,
        (
            "Deleted in QuickBooks: {bill} was deleted there by someone, and has since changed in Procurify. "
            "It is not re-created on its own: re-create it on the 'Changed in QuickBooks' page, or leave it "
            "deleted."
        ),
    ),
    HoldReason(
        ReasonCode.BOOKS_CLOSED,
        WaitsOn.SETTING,
        (
            "The books are closed through {close_date}; this bill is dated {bill_date}. Choose 'post on the "
            "first open day' in the sync settings, or reopen the books in QuickBooks."
        ),
    ),
    HoldReason(
        ReasonCode.BILL_VOIDED_IN_PROCURIFY,
        WaitsOn.PERSON,
        (
            "Denied or withdrawn in Procurify after it reached QuickBooks: {bill} is still an open payable "
            "there. Delete it in QuickBooks or keep it."
        ),
        removal=True,
    ),
    HoldReason(
        ReasonCode.MALFORMED_RECORD,
        WaitsOn.PROCURIFY,
        "Procurify sent {record} in a form we could not read: {error}",
    ),
    HoldReason(
        ReasonCode.BILL_TOTAL_MISMATCH,
        WaitsOn.PROCURIFY,
        (
            "The lines of {bill} add up to {lines}, but Procurify says the bill totals {total}, so it was "
            "not sent to QuickBooks. Check the bill's lines and allocations in Procurify."
        ),
    ),
    HoldReason(
        ReasonCode.STALE_SYNC_TOKEN_EXHAUSTED,
        WaitsOn.QUICKBOOKS,
        (
            "Bill '{bill}' kept changing in QuickBooks while we updated it. It will be retried on the next "
            "run."
        ),
        retry=Retry.AFTER_COOLDOWN,
        qbo_side=True,
    ),
    HoldReason(
        ReasonCode.DUPLICATE_DOCNUMBER,
        WaitsOn.QUICKBOOKS,
        (
            "QuickBooks already has a bill numbered '{doc_number}' for this vendor. Check for a duplicate in "
            "QuickBooks."
        ),
        retry=Retry.AFTER_COOLDOWN,
        qbo_side=True,
    ),
    HoldReason(
        ReasonCode.VENDOR_CURRENCY_MISMATCH,
        WaitsOn.MAPPING,
        (
            "QuickBooks only accepts a vendor's bills in the vendor's own currency: {bill} is in "
            "{bill_currency}, but its QuickBooks vendor '{vendor}' bills in {vendor_currency}. On the "
            "Vendors tab, map it to a {bill_currency} vendor or create '{twin}' in QuickBooks."
        ),
        group="vendor {vendor} taking {currency}",
        fix="create its currency twin or remap",
    ),
    HoldReason(
        ReasonCode.MULTICURRENCY_OFF,
        WaitsOn.QUICKBOOKS,
        (
            "Multicurrency is off in QuickBooks (home currency {home}), and {record} is in {currency}. Turn "
            "on multicurrency in QuickBooks (Settings, Advanced, Currency); the record then syncs by itself."
        ),
        group="multicurrency being on in QuickBooks",
        fix="turn it on in QuickBooks",
    ),
    HoldReason(
        ReasonCode.NO_PAYABLES_ACCOUNT,
        WaitsOn.QUICKBOOKS,
        (
            "QuickBooks has no Accounts Payable account in {currency} for {bill}. Enter one {currency} bill "
            "in QuickBooks (it creates the account) or add the account; the bill then syncs by itself."
        ),
        group="an Accounts Payable account in {currency}",
        fix="add one in QuickBooks",
    ),
    HoldReason(
        ReasonCode.EXCHANGE_RATE_BASE_MISMATCH,
        WaitsOn.PERSON,
        (
            "Procurify converts {bill} (in {currency}) to {procurify_base}, but QuickBooks' home currency is "
            "{home}, so Procurify's exchange rate would be wrong in QuickBooks and the bill was not sent. "
            "Enter this bill in QuickBooks by hand, or make the two base currencies agree."
        ),
    ),
    HoldReason(
        ReasonCode.BILL_TOTAL_MISSING,
        WaitsOn.PROCURIFY,
        (
            "Procurify did not give a total for {bill}, so we cannot prove its lines are complete; it was "
            "not sent. Open and re-save the bill in Procurify."
        ),
    ),
    HoldReason(
        ReasonCode.TAX_UNMAPPED,
        WaitsOn.MAPPING,
        (
            "Tax {tax} has no QuickBooks tax code yet, so {bill} was not sent. Choose one on the Tax, "
            "classes and locations page; the bill then syncs by itself."
        ),
    ),
    HoldReason(
        ReasonCode.TAX_CODE_UNUSABLE,
        WaitsOn.MAPPING,
        (
            "Tax {tax} is mapped to QuickBooks tax code '{code}', which is inactive or has no purchase rate, "
            "so {bill} was not sent. Choose another code on the Tax, classes and locations page."
        ),
    ),
    HoldReason(
        ReasonCode.TAX_TOTAL_MISMATCH,
        WaitsOn.MAPPING,
        (
            "QuickBooks would total {bill} at {qbo_total} with {qbo_tax} of tax (it works tax out per rate "
            "on the sum of the lines), but Procurify says {total} with {tax} of tax, so it was not sent. "
            "Check the tax codes mapped on the Tax, classes and locations page, or enter this bill by hand."
        ),
    ),
    HoldReason(
        ReasonCode.CLASS_UNMAPPED,
        WaitsOn.MAPPING,
        (
            "Department '{department}' has no QuickBooks class yet, so {bill} was not sent. Choose one on "
            "the Tax, classes and locations page."
        ),
    ),
    HoldReason(
        ReasonCode.CLASS_INACTIVE,
        WaitsOn.MAPPING,
        (
            "Department '{department}' is mapped to QuickBooks class '{name}', which is inactive, so {bill} "
            "was not sent. Reactivate it in QuickBooks or choose another class."
        ),
    ),
    HoldReason(
        ReasonCode.LOCATION_UNMAPPED,
        WaitsOn.MAPPING,
        (
            "Location '{location}' has no QuickBooks location yet, so {bill} was not sent. Choose one on the "
            "Tax, classes and locations page."
        ),
    ),
    HoldReason(
        ReasonCode.LOCATION_INACTIVE,
        WaitsOn.MAPPING,
        (
            "Location '{location}' is mapped to QuickBooks location '{name}', which is inactive, so {bill} "
            "was not sent. Reactivate it in QuickBooks or choose another location."
        ),
    ),
    HoldReason(
        ReasonCode.ONE_LOCATION_PER_BILL,
        WaitsOn.PROCURIFY,
        (
            "QuickBooks takes one location per bill, but {bill} is split across the locations {locations}, "
            "so it was not sent. Split the bill in Procurify or enter it by hand."
        ),
    ),
    HoldReason(
        ReasonCode.ONE_CLASS_PER_BILL,
        WaitsOn.PROCURIFY,
        (
            "One class per bill: {why}, but {bill} is split across the classes {classes}, so it was not "
            "sent. Put a class on each line (Tax, classes and locations page) if QuickBooks tracks classes "
            "per line, or enter it by hand."
        ),
    ),
    HoldReason(
        ReasonCode.PAYMENT_ACCOUNT_UNMAPPED,
        WaitsOn.MAPPING,
        (
            "Payment of {amount} for {bill} by {method} is waiting for a {account_kind} to be chosen for "
            "{method} payments. Choose it on the Payment methods tab; the payment is then recorded by itself."
        ),
    ),
    HoldReason(
        ReasonCode.PAYMENT_ACCOUNT_UNUSABLE,
        WaitsOn.MAPPING,
        (
            "Payment of {amount} for {bill} by {method} was not recorded: the account chosen for {method} "
            "payments ({account}) is no longer an active Bank or Credit Card account in QuickBooks. Choose "
            "another on the Payment methods tab."
        ),
    ),
    HoldReason(
        ReasonCode.PAYMENT_WAITING_FOR_BILL,
        WaitsOn.RECORD,
        (
            "Payment of {amount} for {bill} is waiting for the bill to reach QuickBooks; it is recorded on "
            "the run after the bill is written."
        ),
    ),
    HoldReason(
        ReasonCode.PAYMENT_CURRENCY_MISMATCH,
        WaitsOn.PERSON,
        (
            "Payment of {amount} for {bill} was made in {payment_currency}, but the bill is in "
            "{bill_currency}. QuickBooks pays a bill in the bill's currency, so the payment was not "
            "recorded; record it in QuickBooks by hand (Pay bills)."
        ),
    ),
    HoldReason(
        ReasonCode.PAYMENT_SPLIT_UNKNOWN,
        WaitsOn.PERSON,
        (
            "Payment of {amount} covers {count} bills ({bill}) totalling {total}. Procurify does not say how "
            "much of it went to each bill, so it was not recorded; record it in QuickBooks by hand (Pay "
            "bills)."
        ),
    ),
    HoldReason(
        ReasonCode.PAYMENT_DATE_MISSING,
        WaitsOn.PROCURIFY,
        (
            "Payment of {amount} for {bill} has neither a posted nor a processing date in Procurify, so it "
            "was not recorded: we never guess a payment's date. It is retried on the next run."
        ),
    ),
    HoldReason(
        ReasonCode.ATTACHMENT_TYPE_NOT_ALLOWED,
        WaitsOn.PERSON,
        (
            "The invoice file {file} was not attached to {bill}: QuickBooks accepts PDF, images (JPEG, PNG, "
            "GIF, TIFF), Word, Excel, CSV, text, RTF, XML, ODS, AI and EPS files only. The bill itself is in "
            "QuickBooks; attach a copy in one of those formats there if it is needed."
        ),
    ),
    HoldReason(
        ReasonCode.ATTACHMENT_TOO_LARGE,
        WaitsOn.PERSON,
        (
            "The invoice file {file} ({size}) was not attached to {bill}: QuickBooks takes files up to "
            "{limit} per upload. The bill itself is in QuickBooks; attach a smaller copy there if it is "
            "needed."
        ),
    ),
    HoldReason(
        ReasonCode.ATTACHMENT_REFUSED,
        WaitsOn.QUICKBOOKS,
        (
            "QuickBooks refused the invoice file {file} for {bill}: {detail} The bill itself is in "
            "QuickBooks; the file is retried automatically within six hours."
        ),
        retry=Retry.AFTER_COOLDOWN,
    ),
    HoldReason(
        ReasonCode.ATTACHMENT_UNREACHABLE,
        WaitsOn.PROCURIFY,
        (
            "The invoice file {file} could not be downloaded from Procurify for {bill}: {detail} It is "
            "retried on the next sync."
        ),
        retry=Retry.EACH_RUN,
    ),
    HoldReason(
        ReasonCode.ATTACHMENT_ADDRESS_REFUSED,
        WaitsOn.PERSON,
        (
            "The invoice file {file} was not attached to {bill}: Procurify gave a download address we do not "
            "contact ({detail}). The bill itself is in QuickBooks."
        ),
    ),
    HoldReason(
        ReasonCode.VENDOR_CURRENCY_UNKNOWN,
        WaitsOn.PROCURIFY,
        (
            "Procurify does not say which currency vendor '{vendor}' bills in, and QuickBooks fixes a "
            "vendor's currency when it is created. Set the vendor's currency in Procurify or map the vendor "
            "by hand."
        ),
    ),
    HoldReason(
        ReasonCode.SYNC_FAILED,
        WaitsOn.RETRY,
        "We could not sync this record: {detail} It is retried automatically within six hours.",
        retry=Retry.AFTER_COOLDOWN,
        qbo_side=True,
    ),
    HoldReason(
        ReasonCode.BILL_REMOVED_IN_PROCURIFY,
        WaitsOn.PERSON,
        (
            "Removed in Procurify after it reached QuickBooks: {bill} is still an open payable there. Delete "
            "it in QuickBooks or keep it."
        ),
        removal=True,
    ),
    HoldReason(
        ReasonCode.BILL_UNAPPROVED_AFTER_SYNC,
        WaitsOn.PERSON,
        (
            "Sent back for approval in Procurify after it reached QuickBooks: {bill}. Delete it in "
            "QuickBooks or keep it; once approved again it is updated there."
        ),
        removal=True,
    ),
    HoldReason(
        ReasonCode.PAID_IN_PROCURIFY,
        WaitsOn.PERSON,
        (
            "{bill} is paid in Procurify, but QuickBooks still shows it as an open bill: payments are not "
            "written to QuickBooks yet. Record the payment there (Pay bills), then mark it recorded here, so "
            "the bill is not paid twice."
        ),
    ),
    HoldReason(
        ReasonCode.CREDIT_SIGN_FLIP_LOCKED,
        WaitsOn.QUICKBOOKS,
        (
            "{bill} changed sign in Procurify (a bill became a credit, or a credit a bill), so the {detail} "
            "we wrote to QuickBooks must be replaced, but it has payments or credits applied there. Nothing "
            "was changed. Remove what is applied in QuickBooks (it is retried within six hours) or enter the "
            "change there by hand."
        ),
        retry=Retry.AFTER_COOLDOWN,
        qbo_side=True,
    ),
    HoldReason(
        ReasonCode.BOOKS_UNKNOWN,
        WaitsOn.QUICKBOOKS,
        (
            "We have not read QuickBooks' currency settings yet, so nothing was sent. It is retried on the "
            "next run."
        ),
    ),
)

REASONS: dict[ReasonCode, HoldReason] = {spec.code: spec for spec in _SPECS}
QBO_SIDE: frozenset[ReasonCode] = frozenset(code for code, spec in REASONS.items() if spec.qbo_side)
REMOVALS: frozenset[ReasonCode] = frozenset(code for code, spec in REASONS.items() if spec.removal)


def reason(code: str, /) -> HoldReason:
    """The registered reason of a code; ValueError for a code that is not registered."""
    return REASONS[ReasonCode(code)]


def sentence(code: str, /, **params: Any) -> str:
    """The sentence a new hold with this code shows; refuses unknown codes and missing parameters.

    `code` is positional-only: a sentence may have a parameter of that name ("tax_code_unusable")."""
    return reason(code).sentence(**params)


def find(code: str) -> HoldReason | None:
    """The reason of a stored code, or None for one no longer registered (rows older than a removal)."""
    return REASONS[ReasonCode(code)] if code in ReasonCode.values else None


def retry_of(code: str) -> Retry:
    """How a stored code is retried; a code no longer registered waits for a person."""
    found = find(code)
    return found.retry if found else Retry.ON_RELEASE


def title(code: str) -> str:
    """The heading of a code's group; a code no longer registered reads as words."""
    found = find(code)
    return found.title if found else code.replace("_", " ").capitalize()
