"""gunicorn's access and error logs without secrets (issue 12).

gunicorn logs through its own loggers, not Django's LOGGING, and its default access line carries
the full request target and the Referer: the QuickBooks callback's ``code`` and ``state`` would be
written to disk. ``gunicorn.conf.py`` (read by gunicorn from the working directory) selects this
logger class: query values are redacted in every atom, credential headers are never available to
a log format, and both loggers pass every line through the same filter as Django's handlers.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from config.logging import RedactSecretsFilter, redact, redact_query, redact_target
from config.secret_names import SECRET_HEADERS

_TARGET_ATOMS = ("r", "f", "U", "{referer}i", "{raw_uri}e", "{request_uri}e", "{http_referer}e")
_QUERY_ATOMS = ("q", "{query_string}e")
_SECRET_HEADERS = SECRET_HEADERS


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in list(atoms):
            value = atoms[key]
            if not isinstance(value, str):
                continue
            name = key[1:-2] if key.startswith("{") else ""
            if name in _SECRET_HEADERS or name.startswith("http_authorization") or name == "http_cookie":
                atoms[key] = "[redacted]"
            elif key in _QUERY_ATOMS:
                atoms[key] = redact_query(value)
            elif key in _TARGET_ATOMS or "?" in value:
                atoms[key] = redact_target(value)
            else:
                atoms[key] = redact(value)
        return atoms
