"""Settings refuse bad values at start-up with a clear message (run in a subprocess, as a deploy would)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GOOD_PROD = {
    "APP_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "connector.example.com",
    "DATABASE_URL": "postgres://u@db.example/app",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "QBO_CLIENT_ID": "id",
    "QBO_CLIENT_SECRET": "secret",
}


def clean_environ() -> dict[str, str]:
    """The test run's environment without anything a deployment would not have."""
    dropped = {*GOOD_PROD, "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {k: v for k, v in os.environ.items() if k not in dropped}


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = clean_environ()
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_starts_in_production_with_every_secret() -> None:
    result = load_settings(**GOOD_PROD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_it_refuses_a_bad_boolean() -> None:
    result = load_settings(DEBUG="ture")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_it_refuses_production_without_secret_key() -> None:
    result = load_settings(**{**GOOD_PROD, "SECRET_KEY": ""})
    assert "SECRET_KEY is required when APP_ENV=production" in result.stderr


def test_it_refuses_production_without_encryption_keys() -> None:
    result = load_settings(**{**GOOD_PROD, "FIELD_ENCRYPTION_KEYS": ""})
    assert "FIELD_ENCRYPTION_KEYS is required when APP_ENV=production" in result.stderr


def test_it_refuses_a_malformed_encryption_key() -> None:
    result = load_settings(FIELD_ENCRYPTION_KEYS="not-a-key")
    assert "is not a Fernet key" in result.stderr


def test_it_refuses_debug_in_production() -> None:
    result = load_settings(**{**GOOD_PROD, "DEBUG": "true"})
    assert "DEBUG must be false when APP_ENV=production" in result.stderr


def test_it_reads_secrets_from_files(tmp_path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("y" * 50)
    env = {**GOOD_PROD, "SECRET_KEY": "", "SECRET_KEY_FILE": str(secret_file)}
    assert load_settings(**env).returncode == 0


def test_it_passes_the_deploy_checks_in_production() -> None:
    clean = clean_environ()
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**clean, **GOOD_PROD},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
