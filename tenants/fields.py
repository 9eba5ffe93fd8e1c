"""An encrypted text field over cryptography's MultiFernet.

Keys come from settings.FIELD_ENCRYPTION_KEYS (newest first), never from SECRET_KEY. Decryption
tries every key; encryption always uses the newest, so re-saving a row re-encrypts it
(see the rotate_encryption_keys command). A value no key can decrypt raises: returning the
ciphertext, as some libraries do, would leak it into forms and API calls.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


class SecretStr(str):
    """A decrypted secret whose repr is masked, so tracebacks and debug pages do not show it."""

    def __repr__(self) -> str:
        return "SecretStr('********')"


@lru_cache(maxsize=1)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def get_fernet() -> MultiFernet:
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def _clear_cache(*, setting: str, **_: Any) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _multifernet.cache_clear()


setting_changed.connect(_clear_cache)


def encrypt(value: str) -> str:
    return get_fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> SecretStr:
    try:
        return SecretStr(get_fernet().decrypt(token.encode()).decode())
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS. "
            "Was a key removed before rotate_encryption_keys ran?"
        ) from None


class EncryptedTextField(models.TextField):
    """Stores ciphertext; Python code sees plaintext (as SecretStr). Empty and None stay as they are."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def to_python(self, value: Any) -> Any:
        return value

    def formfield(self, **kwargs: Any) -> Any:  # type: ignore[override]  # TextField takes keywords only
        from django import forms

        kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
        return super().formfield(**kwargs)
