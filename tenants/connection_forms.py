"""The Procurify connection form: site address, client ID and a secret that is never shown again."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django import forms

from connector import netguard
from tenants.models import Connection

_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*$")


def normalise_site_url(value: str) -> str:
    """https://acme.procurify.com/ → https://acme.procurify.com; refuses anything that is not an http(s) site.

    Only the shape: where the address may lead is ``check_site_url`` (connector.netguard), so
    the local sandbox can stand in during development, e.g. http://127.0.0.1:8001/procurify/northwind.
    """
    value = value.strip()
    if "://" not in value and value and " " not in value:
        value = "https://" + value  # people paste "acme.procurify.com"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        port = -1
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not _HOST.match(host) or port == -1:
        raise forms.ValidationError(
            "Enter your Procurify site address, for example https://yourcompany.procurify.com.",
            code="invalid",
        )
    if parts.username or parts.password:
        raise forms.ValidationError("Leave the user name and password out of the address.", code="invalid")
    if parts.query or parts.fragment:
        raise forms.ValidationError(
            "Enter only the site address, without anything after '?' or '#'.", code="invalid"
        )
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


class ProcurifyConnectionForm(forms.Form):
    site_url = forms.CharField(
        label="Procurify site address",
        max_length=200,
        help_text="The address you use to sign in to Procurify, e.g. https://yourcompany.procurify.com.",
        widget=forms.TextInput(
            attrs={"placeholder": "https://yourcompany.procurify.com", "autocomplete": "off"}
        ),
    )
    client_id = forms.CharField(
        label="Client ID",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    client_secret = forms.CharField(
        label="Client secret",
        max_length=500,
        required=False,
        strip=True,
        # render_value=False: a saved or mistyped secret never goes back to the browser.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, connection: Connection | None = None, **kwargs: Any) -> None:
        self.connection = connection
        initial = kwargs.pop("initial", None) or {}
        if connection is not None:
            initial = {"site_url": connection.site_url, "client_id": connection.client_id, **initial}
        super().__init__(*args, **{**kwargs, "initial": initial})
        if self.has_saved_secret:
            self.fields["client_secret"].help_text = "A secret is saved. Leave this blank to keep it."
        else:
            self.fields[
                "client_secret"
            ].help_text = "Procurify shows the secret only once, when you create it."

    @property
    def has_saved_secret(self) -> bool:
        return bool(self.connection and self.connection.client_secret)

    def clean_site_url(self) -> str:
        url = normalise_site_url(self.cleaned_data["site_url"])
        try:
            # The shape, then every address the name resolves to (SSRF, issue 12); each later
            # connection is checked again when it is made.
            netguard.check_site_url(url)
        except netguard.BlockedAddress as exc:
            raise forms.ValidationError(exc.sentence, code=exc.kind) from None
        return url

    def clean_client_id(self) -> str:
        value: str = self.cleaned_data["client_id"].strip()
        if any(c.isspace() for c in value):
            raise forms.ValidationError(
                "A client ID has no spaces. Copy it again from Procurify.", code="invalid"
            )
        return value

    def clean_client_secret(self) -> str:
        value: str = self.cleaned_data["client_secret"]
        if not value and not self.has_saved_secret:
            raise forms.ValidationError(
                "Enter the client secret. Procurify shows it once, when you create the application.",
                code="required",
            )
        if any(c.isspace() for c in value):
            raise forms.ValidationError(
                "A client secret has no spaces. Copy it again from Procurify.", code="invalid"
            )
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns; its stub allows None
        # A saved secret goes only to the site and client ID it was typed for: changing either one
        # needs the secret typed again, so nobody can redirect a stored secret somewhere else.
        if self.has_saved_secret and not data.get("client_secret") and "client_secret" not in self.errors:
            assert self.connection is not None
            moved = ("site_url" in data and data["site_url"] != self.connection.site_url) or (
                "client_id" in data and data["client_id"] != self.connection.client_id
            )
            if moved:
                self.add_error(
                    "client_secret",
                    forms.ValidationError(
                        "You changed the site address or client ID: enter the client secret again.",
                        code="secret_required",
                    ),
                )
        return data

    def save(self, connection: Connection) -> Connection:
        """Apply the form; a changed site, ID or secret drops the cached token and any old error."""
        data = self.cleaned_data
        new_secret = data["client_secret"] or connection.client_secret
        changed = (
            connection.site_url != data["site_url"]
            or connection.client_id != data["client_id"]
            or connection.client_secret != new_secret
        )
        connection.site_url = data["site_url"]
        connection.client_id = data["client_id"]
        connection.client_secret = new_secret
        if changed:
            connection.access_token = ""
            connection.access_expires_at = None
            connection.last_error = ""
            connection.last_checked_at = None
            connection.needs_reauth = False
        connection.save()
        return connection
