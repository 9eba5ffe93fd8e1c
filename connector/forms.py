"""Forms for the sync pages: ignoring a held record, filtering runs, the schedule and sync settings."""

from __future__ import annotations

from typing import Any

from django import forms

from connector import schedule_days
from connector.models import SyncRun
from connector.sync import closed_books
from tenants.models import Organisation, SyncSchedule

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 7 * 24 * 60


class IgnoreForm(forms.Form):
    comment = forms.CharField(
        label="Why ignore this record?",
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail, e.g. “Entered in QuickBooks by hand.”",
        error_messages={
            "required": "Say why this record should be ignored; the comment is kept in the audit trail."
        },
    )

    def clean_comment(self) -> str:
        comment = self.cleaned_data["comment"].strip()
        if not comment:
            raise forms.ValidationError(
                "Say why this record should be ignored; the comment is kept in the audit trail."
            )
        return comment


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "All"), *SyncRun.Status.choices], label="Status")

    def status_value(self) -> str:
        return self.cleaned_data.get("status", "") if self.is_valid() else ""


class SyncSettingsForm(forms.ModelForm):
    days = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        choices=schedule_days.WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        label="On these days",
        help_text="For the daily sync. None ticked means every day.",
    )
    create_missing_vendors = forms.BooleanField(
        required=False,
        label="Create missing vendors in QuickBooks",
        help_text="When a Procurify vendor has no QuickBooks match, create it instead of holding its bills.",
    )

    closed_period_policy = forms.ChoiceField(
        required=False,  # left out: the organisation's current choice stays
        choices=closed_books.POLICIES,
        widget=forms.RadioSelect,
        label="Bills dated in closed books",
        help_text=closed_books.EXPLANATION,
    )

    class Meta:
        model = SyncSchedule
        fields = ["enabled", "mode", "interval_minutes", "daily_time"]
        labels = {
            "enabled": "Sync on a schedule",
            "mode": "How often",
            "interval_minutes": "Every (minutes)",
            "daily_time": "Daily at",
        }
        widgets = {
            "mode": forms.RadioSelect,
            "daily_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["daily_time"].help_text = f"In your organisation's time zone ({organisation.time_zone})."
        self.fields[
            "interval_minutes"
        ].help_text = f"At least {MIN_INTERVAL_MINUTES} minutes. Used when “Every N minutes” is chosen."
        self.fields["create_missing_vendors"].initial = organisation.create_missing_vendors
        self.fields["days"].initial = schedule_days.parse(self.instance.weekdays)
        self.fields["closed_period_policy"].initial = organisation.closed_period_policy

    def clean_interval_minutes(self) -> int:
        minutes = self.cleaned_data["interval_minutes"]
        if minutes is None or minutes < MIN_INTERVAL_MINUTES:
            raise forms.ValidationError(
                f"Sync at most every {MIN_INTERVAL_MINUTES} minutes; Procurify limits how often we may ask."
            )
        if minutes > MAX_INTERVAL_MINUTES:
            raise forms.ValidationError("Sync at least once a week (10080 minutes).")
        return minutes

    def clean_closed_period_policy(self) -> str:
        return self.cleaned_data.get("closed_period_policy") or self.organisation.closed_period_policy

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == SyncSchedule.Mode.DAILY and not data.get("daily_time"):
            self.add_error("daily_time", "Choose the time of day for the daily sync.")
        return data

    def save(self, commit: bool = True) -> SyncSchedule:
        schedule = super().save(commit=False)
        schedule.organisation = self.organisation
        schedule.weekdays = schedule_days.dump(self.cleaned_data.get("days") or [])
        self.organisation.create_missing_vendors = self.cleaned_data["create_missing_vendors"]
        self.organisation.closed_period_policy = self.cleaned_data["closed_period_policy"]
        if commit:
            schedule.save()
            self.organisation.save(update_fields=["create_missing_vendors", "closed_period_policy"])
        return schedule
