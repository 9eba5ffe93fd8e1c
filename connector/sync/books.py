"""The currency facts of an organisation's two companies, as the transforms need them (docs/qbo-facts.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from connector.errors import Permanent
from connector.qbo.client import QBOClient
from connector.qbo.schemas import CompanyInfo, Preferences
from connector.sync.transform import Books
from mappings.models import BooksProfile, QBOAccount
from tenants.models import Organisation

PAYABLES = "Accounts Payable"


def load_books(organisation: Organisation) -> Books:
    profile = BooksProfile.objects.filter(organisation=organisation).first()
    if profile is None:
        return Books()
    home = profile.qbo_home_currency
    payables: dict[str, str] = {}
    rows = QBOAccount.objects.filter(organisation=organisation, account_type=PAYABLES, active=True)
    # One A/P account per currency: QuickBooks' own ("Accounts Payable (A/P)…") first, then the oldest.
    ranked = sorted(
        rows.values_list("qbo_id", "currency", "name"),
        key=lambda row: (not row[2].startswith("Accounts Payable (A/P)"), len(row[0]), row[0]),
    )
    for qbo_id, currency, _name in ranked:
        payables.setdefault(currency or home, qbo_id)
    return Books(
        home_currency=home,
        multicurrency=profile.qbo_multicurrency,
        warn_duplicate_bill_number=profile.qbo_warn_duplicate_bill_number,
        procurify_base=profile.procurify_base_currency,
        payables=payables,
        line_tax=profile.qbo_line_tax,
        class_tracking=profile.qbo_class_tracking,
        track_locations=profile.qbo_track_locations,
        book_close_date=profile.qbo_book_close_date,
        closed_period_policy=organisation.closed_period_policy,
    )


def refresh_books(
    organisation: Organisation,
    procurify_base_currency: str,
    qbo: QBOClient,
    *,
    info: CompanyInfo | None = None,
) -> BooksProfile:
    """Read QuickBooks' company settings that decide how bills are written (docs/qbo-facts.md).

    info: the company info a run already read (its token check), so it is not read twice.
    """
    info = info or qbo.company_info()
    prefs = qbo.preferences()
    currency = prefs.CurrencyPrefs or {}
    home = ((currency.get("HomeCurrency") or {}).get("value") or "").strip().upper()
    warn = prefs.other("WarnDuplicateBillNumber")
    close = (prefs.AccountingInfoPrefs or {}).get("BookCloseDate")
    profile, _ = BooksProfile.objects.update_or_create(
        organisation=organisation,
        defaults={
            "qbo_realm_id": qbo.realm_id,
            "qbo_home_currency": home,
            "qbo_multicurrency": currency.get("MultiCurrencyEnabled") is True,
            "qbo_warn_duplicate_bill_number": None if warn is None else warn.strip().lower() == "true",
            "qbo_country": (info.Country or "")[:20],
            **tracking_settings(info, prefs),
            "qbo_book_close_date": _date(close),
            "procurify_base_currency": procurify_base_currency,
        },
    )
    return profile


def tracking_settings(info: CompanyInfo, prefs: Preferences) -> dict[str, Any]:
    """Sales tax per line, class and location tracking, from the answers already read
    (docs/qbo-facts.md, "Sales tax outside the US", "Classes and locations")."""
    accounting = prefs.AccountingInfoPrefs or {}
    tax = getattr(prefs, "TaxPrefs", None) or {}
    country = (info.Country or "").strip().upper()
    # Outside the US every line needs a tax code whether or not the company says it uses sales tax;
    # an unknown country is read as non-US only when the company says it uses sales tax.
    line_tax = country not in ("", "US") or (not country and tax.get("UsingSalesTax") is True)
    if accounting.get("ClassTrackingPerTxnLine") is True:
        classes = "line"
    elif accounting.get("ClassTrackingPerTxn") is True:
        classes = "transaction"
    else:
        classes = ""
    return {
        "qbo_line_tax": line_tax,
        "qbo_class_tracking": classes,
        "qbo_track_locations": accounting.get("TrackDepartments") is True,
    }


def ensure_books(organisation: Organisation, qbo: QBOClient) -> Books:
    """The books as last read, reading QuickBooks' settings now if no sync has yet (e.g. a person
    creates a vendor before the first sync); Procurify's base currency stays unknown until then."""
    if not BooksProfile.objects.filter(organisation=organisation).exclude(qbo_home_currency="").exists():
        refresh_books(organisation, "", qbo)
    return load_books(organisation)


def _date(value: object) -> date | None:
    """BookCloseDate as a date; absent (books never closed) is None. An unreadable value is refused:
    guessing "open" could post into closed books."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Permanent(
            f"QuickBooks gave a book-close date we cannot read: {value!r}.", code="bad_close_date"
        ) from None
