"""Tax codes, classes and locations: QuickBooks' lists as last read, and what a person chose.

A Procurify bill line names its tax by name and percentage ("GST", 5.00); QuickBooks outside the US
needs a TaxCode on every line. Procurify departments become QuickBooks classes, Procurify locations
(a department's "branch") QuickBooks locations (the API's Department). Tax codes are only ever
suggested: a person confirms, because the wrong code files the wrong return.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models

from tenants.models import Organisation

SOURCES = [("", "Not mapped"), ("manual", "Chosen by a person"), ("auto_name", "Matched by name")]


# Pure; here so the model's label needs nothing from the engine (connector/sync/tax.py uses it too).
def tax_label(name: str | None, percentage: Decimal | str | int | None) -> str:
    """ "GST 5%", "GST/PST BC 12%"; "0% (no tax in Procurify: …)" for what Procurify puts no tax on."""
    pct = Decimal(str(percentage or 0)).normalize()
    if not (name or "").strip() and not pct:
        return "0% (no tax in Procurify: shipping, costs, untaxed lines)"
    return f"{(name or 'Unnamed tax').strip()} {pct:f}%"


class QBOTaxCode(models.Model):
    """A QuickBooks TaxCode with the purchase rates it applies (empty: cannot be used on bills)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="qbo_tax_codes")
    qbo_id = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    # [[TaxRate Id, "percent"], ...] as QuickBooks applies them to purchases.
    purchase_rates = models.JSONField(default=list, blank=True)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "qbo_id"], name="mappings_qbotaxcode_unique")
        ]

    def __str__(self) -> str:
        return self.name


class _QBOName(models.Model):
    """A QuickBooks name-list entry as last read: a class or a location."""

    qbo_id = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "qbo_id"], name="%(app_label)s_%(class)s_unique")
        ]

    def __str__(self) -> str:
        return self.name


class QBOClass(_QBOName):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="qbo_classes")


class QBOLocation(_QBOName):
    """A QuickBooks location (the API calls it Department)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="qbo_locations")


class _Mapped(models.Model):
    """What every mapping row here shares: the QuickBooks choice, a suggestion, who decided."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    qbo_id = models.CharField(max_length=40, blank=True)
    qbo_name = models.CharField(max_length=200, blank=True)
    suggested_qbo_id = models.CharField(max_length=40, blank=True)
    suggested_qbo_name = models.CharField(max_length=200, blank=True)
    suggestion_reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=12, choices=SOURCES, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def is_mapped(self) -> bool:
        return bool(self.qbo_id)


class TaxMapping(_Mapped):
    """One Procurify tax (name and percentage, as bill lines carry it) and its QuickBooks TaxCode."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="tax_mappings")
    key = models.CharField(max_length=64)  # connector.sync.tax.tax_key: what holds wait on
    tax_name = models.CharField(max_length=100, blank=True)
    tax_percentage = models.DecimalField(max_digits=9, decimal_places=4)

    class Meta:
        ordering = ["tax_name", "tax_percentage"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="mappings_taxmapping_unique")
        ]

    def __str__(self) -> str:
        return f"{self.label} → {self.qbo_name or 'unmapped'}"

    @property
    def label(self) -> str:
        return tax_label(self.tax_name, self.tax_percentage)


class ClassMapping(_Mapped):
    """One Procurify department and the QuickBooks class its lines carry."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="class_mappings")
    procurify_department_id = models.BigIntegerField()
    name = models.CharField(max_length=200)
    location_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "procurify_department_id"], name="mappings_classmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.qbo_name or 'unmapped'}"


class LocationMapping(_Mapped):
    """One Procurify location (a department's branch) and the QuickBooks location of its bills."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="location_mappings")
    procurify_location_id = models.BigIntegerField()
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "procurify_location_id"], name="mappings_locationmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.qbo_name or 'unmapped'}"


class DimensionSettings(models.Model):
    """Whether bills carry classes and locations, and where the class goes."""

    class ClassPlacement(models.TextChoices):
        OFF = "", "No classes"
        LINE = "line", "A class on each line (from the line's department)"
        BILL = "bill", "One class for the whole bill"

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="dimension_settings"
    )
    class_placement = models.CharField(max_length=4, choices=ClassPlacement.choices, blank=True, default="")
    # QuickBooks takes one location per bill (Bill.DepartmentRef), never one per line.
    location_on_bill = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation} classes={self.class_placement or 'off'} location={self.location_on_bill}"
