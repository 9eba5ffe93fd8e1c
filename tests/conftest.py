"""Shared fixtures. The tenant wall is built in: an owner and a viewer of organisation A, and an
outsider who owns organisation B. Every view test can try all three."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from tenants.models import Membership, Organisation, Role


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Several users per test; the production hasher costs ~0.3 s each and proves nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def cache_of_its_own(settings) -> None:
    # Tests share one Redis: a per-test key prefix keeps rate-limit counters (failed logins) from leaking
    # into later tests, without flushing what parallel tests are using.
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for name, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def governor_of_its_own(settings) -> None:
    # QuickBooks pacing is shared through Redis by realm id, and the sandbox's realm ids repeat from
    # test to test: a per-test prefix keeps one test's reservations and 429 pauses out of the next.
    settings.QBO_GOVERNOR_PREFIX = f"test-gov-{uuid.uuid4().hex}"


@dataclass
class Person:
    user: object
    client: Client
    password: str = "correct horse battery staple"


def make_user(django_user_model, email: str, password: str = "correct horse battery staple"):
    user = django_user_model.objects.create_user(username=email, email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def make_org(name: str, owner, **kwargs) -> Organisation:
    slug = name.lower().replace(" ", "-")
    organisation = Organisation.objects.create(name=name, slug=slug, **kwargs)
    Membership.objects.create(organisation=organisation, user=owner, role=Role.OWNER)
    return organisation


def _person(django_user_model, email: str) -> Person:
    user = make_user(django_user_model, email)
    client = Client()
    client.force_login(user)
    return Person(user=user, client=client)


@pytest.fixture
def owner(db, django_user_model) -> Person:
    return _person(django_user_model, "alice@northwind.example")


@pytest.fixture
def org_a(owner: Person) -> Organisation:
    return make_org("Northwind Distribution", owner.user, time_zone="America/Vancouver")


@pytest.fixture
def viewer(db, django_user_model, org_a: Organisation) -> Person:
    person = _person(django_user_model, "bob@northwind.example")
    Membership.objects.create(organisation=org_a, user=person.user, role=Role.VIEWER)
    return person


@pytest.fixture
def admin_member(db, django_user_model, org_a: Organisation) -> Person:
    person = _person(django_user_model, "dana@northwind.example")
    Membership.objects.create(organisation=org_a, user=person.user, role=Role.ADMIN)
    return person


@pytest.fixture
def outsider(db, django_user_model) -> Person:
    return _person(django_user_model, "charlie@contoso.example")


@pytest.fixture
def org_b(outsider: Person) -> Organisation:
    return make_org("Contoso Parts", outsider.user)


# Playwright with Debian's chromium: the bundled browser download is not possible here.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
        ],
    }
