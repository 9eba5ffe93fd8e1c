"""Redaction removes secrets only: Procurify account codes and QuickBooks error codes stay readable."""

from __future__ import annotations

import json

from config.logging import redact as redact_log
from connector.sync.audit import REDACTED
from connector.sync.audit import redact as redact_audit

OAUTH_CODE = "AB11796541234xKq9wP3LmZ8rT5vN2yU7"


def test_the_audit_trail_keeps_account_codes_and_masks_tokens() -> None:
    bill = {
        "items": [{"cost_allocations": [{"budget": {"account_code": {"id": 12, "code": "6550"}}}]}],
        "Fault": {"Error": [{"code": "6140", "Message": "Duplicate Document Number Error"}]},
        "access_token": "eyJ-not-for-eyes",
        "refresh_token": "RT1-secret-value",
        "client_secret": "cs-secret",
        "code": OAUTH_CODE,  # an OAuth authorization code that strayed into a body
    }
    cleaned = redact_audit(bill)
    assert cleaned["items"][0]["cost_allocations"][0]["budget"]["account_code"]["code"] == "6550"
    assert cleaned["Fault"]["Error"][0]["code"] == "6140"
    assert cleaned["access_token"] == cleaned["refresh_token"] == cleaned["client_secret"] == REDACTED
    assert cleaned["code"] == REDACTED
    text = json.dumps(cleaned)
    for secret in ("eyJ-not-for-eyes", "RT1-secret-value", "cs-secret", OAUTH_CODE):
        assert secret not in text


def test_log_lines_keep_account_codes_and_mask_oauth_codes() -> None:
    line = (
        'QBO answered {"account_code": {"code": "6550"}, "state": 2, "Error": [{"code": "6140"}]} '
        f'for GET /callback?code=xyz&state=s and body {{"code": "{OAUTH_CODE}"}} '
        '{"access_token": "tok-1"}'
    )
    cleaned = redact_log(line)
    assert '"code": "6550"' in cleaned and '"code": "6140"' in cleaned and '"state": 2' in cleaned
    for secret in ("xyz", "state=s", OAUTH_CODE, "tok-1"):
        assert secret not in cleaned
