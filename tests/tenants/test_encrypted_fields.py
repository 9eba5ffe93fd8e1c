from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db_connection

from tenants.fields import DecryptionError
from tenants.models import Connection, Provider

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _raw_secret(pk: int) -> str:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM tenants_connection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def stored(settings, org_a) -> Connection:
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    return Connection.objects.create(
        organisation=org_a, provider=Provider.PROCURIFY, client_id="abc", client_secret="s3cr3t-value"
    )


def test_it_stores_ciphertext_and_reads_plaintext(stored) -> None:
    raw = _raw_secret(stored.pk)
    assert "s3cr3t-value" not in raw
    assert Fernet(OLD_KEY.encode()).decrypt(raw.encode()) == b"s3cr3t-value"
    assert Connection.objects.get(pk=stored.pk).client_secret == "s3cr3t-value"


def test_it_masks_the_secret_in_reprs(stored) -> None:
    loaded = Connection.objects.get(pk=stored.pk)
    assert "s3cr3t" not in repr(loaded.client_secret)
    assert "s3cr3t" not in repr(loaded)


def test_it_rotates_to_the_newest_key(settings, stored) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    raw = _raw_secret(stored.pk)
    assert Fernet(NEW_KEY.encode()).decrypt(raw.encode()) == b"s3cr3t-value"
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key retired after rotation
    assert Connection.objects.get(pk=stored.pk).client_secret == "s3cr3t-value"


def test_it_fails_loudly_when_no_key_can_decrypt(settings, stored) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # retired the old key without rotating
    with pytest.raises(DecryptionError, match="cannot be decrypted"):
        Connection.objects.get(pk=stored.pk)


def test_it_keeps_empty_values_empty(org_a) -> None:
    row = Connection.objects.create(organisation=org_a, provider=Provider.QBO)
    assert _raw_secret(row.pk) == ""
    assert Connection.objects.get(pk=row.pk).client_secret == ""


def test_it_never_shows_secrets_in_the_admin(stored, django_user_model) -> None:
    from django.test import Client

    admin = django_user_model.objects.create_superuser(username="root", email="root@x.example", password="pw")
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/tenants/connection/{stored.pk}/change/").content.decode()
    assert "s3cr3t-value" not in page
    assert "client_secret" not in page
    assert _raw_secret(stored.pk) not in page
