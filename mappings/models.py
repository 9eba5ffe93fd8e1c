"""Vendor and account mappings between Procurify and QuickBooks Online, and the QBO lists they
choose from. The engine refreshes these tables every run; a manual choice is never overwritten."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from tenants.models import Organisation


class Source(models.TextChoices):
    NONE = "", "Not mapped"
    MANUAL = "manual", "Chosen by a person"
    AUTO_NAME = "auto_name", "Matched by name"
    AUTO_NUMBER = "auto_number", "Matched by account number"
    CREATED = "created", "Created in QuickBooks by ml-connector"


class QBOVendor(models.Model):
    """A QuickBooks vendor as last read (active and inactive), for matching and for the mapping UI."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="qbo_vendors")
    qbo_id = models.CharField(max_length=40)
    display_name = models.CharField(max_length=500)
    normalised_name = models.CharField(max_length=500, db_index=True)
    active = models.BooleanField(default=True)
    # A QBO vendor has one currency, fixed once it has transactions (docs/qbo-facts.md, currencies).
    currency = models.CharField(max_length=3, blank=True)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "qbo_id"], name="mappings_qbovendor_unique")
        ]

    def __str__(self) -> str:
        return self.display_name


class QBOAccount(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="qbo_accounts")
    qbo_id = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    fully_qualified_name = models.CharField(max_length=600, blank=True)
    acct_num = models.CharField(max_length=40, blank=True, db_index=True)
    account_type = models.CharField(max_length=40, blank=True)
    classification = models.CharField(max_length=20, blank=True)
    active = models.BooleanField(default=True)
    currency = models.CharField(max_length=3, blank=True)  # A/P accounts exist once per currency
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["acct_num", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "qbo_id"], name="mappings_qboaccount_unique")
        ]

    def __str__(self) -> str:
        return f"{self.acct_num} {self.name}".strip()


class QBOTerm(models.Model):
    """Payment terms, so a bill's 'Net 30' can become SalesTermRef when QBO has that term."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="qbo_terms")
    qbo_id = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "qbo_id"], name="mappings_qboterm_unique")
        ]

    def __str__(self) -> str:
        return self.name


class VendorMapping(models.Model):
    """One Procurify vendor and the QBO vendor it maps to (blank while unmapped)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="vendor_mappings")
    procurify_vendor_id = models.BigIntegerField()
    procurify_name = models.CharField(max_length=200)
    normalised_name = models.CharField(max_length=200, db_index=True)
    procurify_active = models.BooleanField(default=True)
    procurify_currency = models.CharField(
        max_length=10, blank=True, help_text="The currency the vendor bills in, per Procurify."
    )
    qbo_vendor_id = models.CharField(max_length=40, blank=True)
    qbo_vendor_name = models.CharField(max_length=500, blank=True)
    # A likely match a person must confirm (e.g. a different legal form); never used by the engine.
    suggested_qbo_vendor_id = models.CharField(max_length=40, blank=True)
    suggested_qbo_vendor_name = models.CharField(max_length=500, blank=True)
    suggestion_reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, blank=True, default=Source.NONE)
    reason = models.CharField(max_length=300, blank=True, help_text="Why this mapping was made.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seen_at = models.DateTimeField(null=True, blank=True, help_text="Last time Procurify listed this vendor.")

    class Meta:
        ordering = ["procurify_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "procurify_vendor_id"], name="mappings_vendormapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procurify_name} → {self.qbo_vendor_name or 'unmapped'}"

    @property
    def is_mapped(self) -> bool:
        return bool(self.qbo_vendor_id)


class AccountMapping(models.Model):
    """One Procurify account code and the QBO account it maps to. We never create accounts."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="account_mappings")
    procurify_account_code_id = models.BigIntegerField()
    code = models.CharField(max_length=50)
    description = models.CharField(max_length=200, blank=True)
    procurify_active = models.BooleanField(default=True)
    qbo_account_id = models.CharField(max_length=40, blank=True)
    qbo_account_name = models.CharField(max_length=600, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, blank=True, default=Source.NONE)
    reason = models.CharField(max_length=300, blank=True, help_text="Why this mapping was made.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "procurify_account_code_id"], name="mappings_accountmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} → {self.qbo_account_name or 'unmapped'}"

    @property
    def is_mapped(self) -> bool:
        return bool(self.qbo_account_id)


class BooksProfile(models.Model):
    """What the two sets of books say about themselves, read with the reference data each run.

    The engine never guesses these: a bill's currency, rate and duplicate-number handling depend on
    them (docs/qbo-facts.md).
    """

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="books_profile")
    qbo_realm_id = models.CharField(max_length=40, blank=True)
    qbo_home_currency = models.CharField(max_length=3, blank=True)
    qbo_multicurrency = models.BooleanField(default=False)
    # None: QBO did not say; treated as "refuses duplicates", the stricter reading.
    qbo_warn_duplicate_bill_number = models.BooleanField(null=True)
    qbo_country = models.CharField(max_length=20, blank=True)
    # Non-US editions tax every bill line with a TaxCode (docs/qbo-facts.md, "Sales tax outside the US").
    qbo_line_tax = models.BooleanField(default=False)
    # "" off, "transaction" one class per bill, "line" a class per line; locations on or off.
    qbo_class_tracking = models.CharField(max_length=12, blank=True)
    qbo_track_locations = models.BooleanField(default=False)
    # Preferences.AccountingInfoPrefs.BookCloseDate; None: the books were never closed.
    qbo_book_close_date = models.DateField(null=True, blank=True)
    procurify_base_currency = models.CharField(max_length=10, blank=True)
    refreshed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation} books ({self.qbo_home_currency or '?'})"

    @property
    def base_mismatch(self) -> bool:
        """Procurify converts to a base currency that is not QuickBooks' home currency."""
        return bool(
            self.procurify_base_currency
            and self.qbo_home_currency
            and self.procurify_base_currency != self.qbo_home_currency
        )


# Tax codes, classes and locations (non-US tax, class and location tracking) live in their own module.
from mappings.dimension_models import (  # noqa: E402,F401
    ClassMapping,
    DimensionSettings,
    LocationMapping,
    QBOClass,
    QBOLocation,
    QBOTaxCode,
    TaxMapping,
)


class PaymentAccountMapping(models.Model):
    """How a Procurify payment method (its rail, or its source type when it has none) is paid in QBO:
    the Bank or Credit Card account its BillPayments come from (connector/sync/payments.py)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="payment_account_mappings"
    )
    method = models.CharField(max_length=40, help_text="ACH, PAPER_CHECK, EXTERNAL, …")
    qbo_account_id = models.CharField(max_length=40, blank=True)
    qbo_account_name = models.CharField(max_length=600, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seen_at = models.DateTimeField(null=True, blank=True, help_text="Last time a payment used this method.")

    class Meta:
        ordering = ["method"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "method"], name="mappings_paymentaccountmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} → {self.qbo_account_name or 'unmapped'}"
