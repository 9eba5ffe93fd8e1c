"""Every redactor masks every name in config/secret_names.py: a name added there is masked everywhere."""

from __future__ import annotations

import pytest

from config.logging import redact_query
from config.secret_names import QUERY_SECRET_KEYS, SECRET_HEADERS, SECRET_KEYS
from connector.http import redact_headers, redact_url
from connector.sync.audit import REDACTED
from connector.sync.audit import redact as redact_audit

VALUE = "s3cr3t-value-9f8e7d"


@pytest.mark.parametrize("name", sorted(SECRET_KEYS))
def test_the_audit_trail_masks_every_secret_key(name: str) -> None:
    assert redact_audit({name: VALUE}) == {name: REDACTED}


@pytest.mark.parametrize("name", sorted(QUERY_SECRET_KEYS))
def test_logged_urls_and_query_strings_mask_every_secret_key(name: str) -> None:
    assert VALUE not in redact_url(f"https://example.test/x?{name}={VALUE}&page=2")
    assert VALUE not in redact_query(f"{name}={VALUE}&page=2")


@pytest.mark.parametrize("name", sorted(SECRET_HEADERS))
def test_logged_headers_mask_every_secret_header(name: str) -> None:
    assert redact_headers({name: VALUE, "accept": "json"}) == {name: "[redacted]", "accept": "json"}
