"""E-mails about organisations: invitations. Each has a subject, a text part and an HTML part."""

from __future__ import annotations

import html

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from tenants.models import Invitation


def subject_line(rendered: str) -> str:
    """A header, not HTML: entities the template engine escaped are undone, whitespace made single."""
    return " ".join(html.unescape(rendered).split())


def send_templated(template: str, context: dict[str, object], to: list[str]) -> None:
    subject = subject_line(render_to_string(f"emails/{template}_subject.txt", context))
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    message.send()


def send_invitation(invitation: Invitation) -> None:
    url = settings.SITE_URL + reverse("tenants-invitation", args=[invitation.token])
    context = {"invitation": invitation, "url": url, "organisation": invitation.organisation}
    send_templated("invitation", context, [invitation.email])
