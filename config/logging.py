"""Logging filters that mask anything shaped like a credential before it reaches a handler.

Used by Django's LOGGING (settings.LOGGING, every handler) and by gunicorn's access and error logs
(config/access_log.py, loaded through gunicorn.conf.py). Masks, at every level:

- secret query and form values: ``code`` and ``state`` (the QuickBooks OAuth callback), tokens,
  client secrets, passwords, session and CSRF cookies, API keys;
- ``Authorization: Bearer/Basic …`` and any bare ``Bearer …``/``Basic …`` credential;
- credential-shaped values wherever they appear: JWTs, Fernet ciphertext (our encrypted columns),
  and user:password inside URLs;
- the same in formatted tracebacks (``exc_text``) and stack information.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

from config.secret_names import OAUTH_WORD_KEYS, QUERY_SECRET_KEYS, SECRET_KEYS

REDACTED = "[redacted]"

# Keys whose value is a secret wherever they appear (substring match: "qbo_refresh_token=…" too).
_SECRET_KEYS = "|".join(re.escape(key) for key in sorted(SECRET_KEYS, key=len, reverse=True))
# Short keys that are secrets only as a whole word ("?code=…&state=…", not "status_code=200").
_WORD_KEYS = "|".join(sorted(OAUTH_WORD_KEYS))

_PATTERNS = [
    # Authorization / Proxy-Authorization headers, in any quoting.
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)\s+)[^\s\"',}]+"),
    # A bare bearer or basic credential anywhere else.
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9\-._~+/]{8,}=*"),
    re.compile(rf"(?i)((?:{_SECRET_KEYS})[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}}]+"),
    # A bare "code=…"/"state: …" is the OAuth callback's; a JSON '"code": "6550"' is an account or error
    # code (and "state" a record's state) unless its value is credential-shaped (20+ opaque characters).
    re.compile(rf"(?i)((?<![A-Za-z0-9_.\"'-])(?:{_WORD_KEYS})\s*[:=]\s*[\"']?)[^\s\"'&,;}}]+"),
    re.compile(rf"(?i)((?<![A-Za-z0-9_.-])[\"'](?:{_WORD_KEYS})[\"']\s*:\s*[\"'])[^\s\"'&,;}}]{{20,}}"),
    # user:password@ in URLs.
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(@)"),
]
_SHAPES = [
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # JWT
    re.compile(r"\bgAAAAA[A-Za-z0-9_-]{20,}={0,2}"),  # Fernet token (an encrypted column value)
]

_QUERY_SECRET_KEYS = QUERY_SECRET_KEYS


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(rf"\1{REDACTED}\2", text)
        else:
            text = pattern.sub(rf"\1{REDACTED}", text)
    for shape in _SHAPES:
        text = shape.sub(REDACTED, text)
    return text


def redact_query(query: str) -> str:
    """A query string with secret values (code, state, tokens, …) replaced; other values kept."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    # Values are judged decoded, so a callback URL inside "?next=%2F…%3Fcode%3D…" is caught too.
    cleaned = [(k, REDACTED if k.lower() in _QUERY_SECRET_KEYS else _redact_value(v)) for k, v in pairs]
    if cleaned == pairs:
        return redact(query)  # keep the original spelling when nothing was secret
    return urlencode(cleaned, safe="[]/")


def _redact_value(value: str) -> str:
    return redact_target(value) if "?" in value else redact(value)


def redact_target(target: str) -> str:
    """A request target or URL ("/path?code=…&state=…") with its query values redacted."""
    base, sep, query = target.partition("?")
    if not sep:
        return redact(target)
    fragment = ""
    if "#" in query:
        query, fragment = query.split("#", 1)
        fragment = "#" + redact(fragment)
    tail = ""
    if " " in query:  # a request line: "GET /x?code=1 HTTP/1.1"
        query, tail = query.split(" ", 1)
        tail = " " + tail
    return redact(base) + "?" + redact_query(query) + fragment + tail


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not take the log line (or the request) down
            message = f"{record.msg!r} {record.args!r}"
        cleaned = _redact_message(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact_message(record.exc_text)
        if record.stack_info:
            record.stack_info = _redact_message(record.stack_info)
        return True


def _redact_message(message: str) -> str:
    # URLs and request lines first (exact query keys), then the free-text patterns.
    message = _URL_OR_TARGET.sub(lambda m: redact_target(m.group(0)), message)
    return redact(message)


_URL_OR_TARGET = re.compile(r"(?:[a-z][a-z0-9+.-]*://[^\s\"'<>]*|(?<![^\s\"'(\[])/[^\s\"'<>]*)\?[^\s\"'<>]*")
