"""Mapping forms: the table's filters and the one-field choice of a QuickBooks vendor or account."""

from __future__ import annotations

from typing import Any

from django import forms

from mappings import bill_accounts
from mappings.mapping_table import STATUS_CHOICES
from mappings.models import QBOAccount, QBOVendor
from tenants.models import Organisation

SORT_CHOICES = [
    ("name", "Procurify name A to Z"),
    ("-name", "Procurify name Z to A"),
    ("qbo", "QuickBooks match A to Z"),
    ("held", "Most held records first"),
]


class MappingFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label="Status")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort by")

    def values(self) -> dict[str, str]:
        """The cleaned filters, falling back to defaults when the query string is nonsense."""
        if not self.is_valid():
            return {"q": "", "status": "", "sort": "name"}
        data = self.cleaned_data
        return {"q": data["q"].strip(), "status": data["status"], "sort": data["sort"] or "name"}


class MappingChoiceForm(forms.Form):
    """Which QuickBooks object a Procurify vendor or account code maps to; only this organisation's."""

    qbo_id = forms.CharField(max_length=40, label="QuickBooks match")

    def __init__(
        self,
        *args: Any,
        organisation: Organisation,
        qbo_model: type[QBOVendor | QBOAccount],
        noun: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organisation, self.qbo_model, self.noun = organisation, qbo_model, noun
        self.fields["qbo_id"].error_messages["required"] = f"Choose a QuickBooks {noun} from the list."
        self.qbo_row: Any = None

    def clean_qbo_id(self) -> str:
        value = self.cleaned_data["qbo_id"].strip()
        row = self.qbo_model._default_manager.filter(organisation=self.organisation, qbo_id=value).first()
        if row is None:
            raise forms.ValidationError(
                f"That is not one of your QuickBooks {self.noun}s. "
                "Choose one from the list; nothing was saved."
            )
        if not row.active:
            raise forms.ValidationError(
                f"QuickBooks {self.noun} '{row}' is inactive. Reactivate it in QuickBooks or choose another."
            )
        if isinstance(row, QBOAccount) and not bill_accounts.fits_bill_line(row):
            raise forms.ValidationError(bill_accounts.refusal(row))  # QuickBooks would refuse the bill
        self.qbo_row = row
        return value
