"""Issue 17: allauth's e-mails in the product's own words and layout, subjects as plain text, and people
named by e-mail address — never by the username Django generates."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

PASSWORD = "a long and unusual passphrase 42"
ODD = "o'brien+ap@northwind.example"  # an apostrophe the template engine would turn into &#x27;


def _html(message) -> str:
    return next(body for body, kind in message.alternatives if kind == "text/html")


def _assert_product_mail(message, address: str) -> None:
    assert "&#" not in message.subject and "&amp;" not in message.subject
    assert message.subject == " ".join(message.subject.split()) and "[" not in message.subject
    assert "ml-connector" in message.subject
    assert "example.com" not in message.body and "Hello from" not in message.body
    assert address in message.body
    html = _html(message)
    assert (
        html.startswith("<!DOCTYPE html>") and "font-family: system-ui" in html
    )  # tenants/emails.py's layout
    assert "ml-connector — Procurify bills and purchase orders in QuickBooks Online." in html


def test_the_sign_up_confirmation_is_in_the_product_words_and_layout_and_names_the_address(db) -> None:
    client = Client()
    response = client.post("/accounts/signup/", {"email": ODD, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302

    message = mail.outbox[-1]
    assert message.subject == "Confirm your e-mail address for ml-connector"
    _assert_product_mail(message, ODD)
    assert (
        "Someone, probably you, signed up for ml-connector with o'brien+ap@northwind.example." in message.body
    )
    user = get_user_model().objects.get(email=ODD)
    assert user.username not in message.body.replace(ODD, "")  # the generated username is never shown
    assert re.search(r"http://\S+/accounts/confirm-email/\S+", message.body)


def test_the_password_reset_mail_is_ours_and_never_mentions_the_username(owner) -> None:
    mail.outbox.clear()
    Client().post("/accounts/password/reset/", {"email": owner.user.email})

    message = mail.outbox[-1]
    assert message.subject == "Reset your ml-connector password"
    _assert_product_mail(message, owner.user.email)
    assert "/accounts/password/reset/key/" in message.body
    assert "username" not in message.body.lower()


def test_signed_in_messages_and_the_header_name_the_email_address(db, django_user_model) -> None:
    from allauth.account.models import EmailAddress

    user = django_user_model.objects.create_user(
        username="u-7f3a9c", email="ivy@northwind.example", password=PASSWORD
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = Client()
    page = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}, follow=True
    ).content.decode()
    assert "Successfully signed in as ivy@northwind.example." in page
    assert "u-7f3a9c" not in page
