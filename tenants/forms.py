from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils.text import slugify

from tenants.access import has_two_factor
from tenants.models import Invitation, Membership, NotificationKind, Organisation, Role

_TIME_ZONES = sorted(zoneinfo.available_timezones())


class OrganisationForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=[(tz, tz) for tz in _TIME_ZONES],
        initial="UTC",
        help_text="Used for schedules and bill dates.",
    )

    class Meta:
        model = Organisation
        fields = ["name", "time_zone", "require_two_factor"]
        labels = {"require_two_factor": "Require two-factor authentication for every member"}
        help_texts = {"name": "Your company's name, as your colleagues know it."}

    def __init__(self, *args: Any, user: Any = None, is_owner: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not is_owner:
            # Only owners decide it (issue 12); admins see it, read-only.
            self.fields["require_two_factor"].disabled = True

    def clean_require_two_factor(self) -> bool:
        wanted = bool(self.cleaned_data.get("require_two_factor"))
        if wanted and self.user is not None and not has_two_factor(self.user):
            raise forms.ValidationError(
                "Set up two-factor authentication for yourself first (Account, Two-factor authentication)."
            )
        return wanted

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not slugify(name):
            raise forms.ValidationError("Use at least one letter or digit in the name.")
        return name

    def save(self, commit: bool = True) -> Organisation:
        organisation = super().save(commit=False)
        if not organisation.slug:
            organisation.slug = _unique_slug(organisation.name)
        if commit:
            organisation.save()
        return organisation


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["email", "role"]
        help_texts = {"role": "Viewers can see everything but change nothing."}

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.filter(organisation=self.organisation, user__email__iexact=email).exists():
            raise forms.ValidationError(f"{email} is already a member of {self.organisation}.")
        return email


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


NOTIFICATION_HELP = {
    NotificationKind.HELD_DIGEST: (
        "After a sync that could not write some records: one e-mail listing them and how to fix each."
    ),
    NotificationKind.RUN_FAILED: "When three syncs in a row fail.",
    NotificationKind.REAUTH_NEEDED: "When QuickBooks stops accepting the connection and syncing pauses.",
    NotificationKind.TOKEN_EXPIRY: "Two weeks before the QuickBooks sign-in reaches Intuit's time limit.",
    NotificationKind.FIRST_SYNC: "Once, when the first sync succeeds.",
}


class NotificationPreferencesForm(forms.Form):
    """One checkbox per kind of e-mail; `initial` is the member's current choices."""

    def __init__(self, *args: Any, choices: dict[str, bool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label,
                required=False,
                initial=choices.get(kind.value, False),
                help_text=NOTIFICATION_HELP[kind],
            )
