"""A logging filter that masks anything shaped like a credential before it reaches a handler."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic)\s+)[^\s\"',}]+"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|password|code|token)[\"']?\s*[:=]\s*[\"']?)"
        r"[^\s\"'&,}]+"
    ),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
