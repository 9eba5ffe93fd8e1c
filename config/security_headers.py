"""Browser-side hardening headers on every response (issue 12).

- Content-Security-Policy: scripts, styles, images and fonts from this origin only, so an injected
  inline ``<script>``, ``on*=`` handler or ``style=`` attribute does not run; no plugins, no
  ``<base>``; forms post only here and to QuickBooks' consent page (the "Connect" POST redirects
  there, and browsers apply form-action to that redirect); ``frame-ancestors 'none'``.
- Referrer-Policy (settings.SECURE_REFERRER_POLICY, set by SecurityMiddleware), X-Frame-Options
  DENY (XFrameOptionsMiddleware) — this middleware only fills them in if something removed them.
- Permissions-Policy: no camera, microphone, location, payment, USB … for this site or its frames.

A view may set its own Content-Security-Policy; it is then left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
)


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy() -> str:
    form_action = ["'self'"]
    qbo = _origin(getattr(settings, "QBO_AUTHORIZE_URL", ""))
    if qbo:
        form_action.append(qbo)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": form_action,
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        response.setdefault("X-Frame-Options", "DENY")
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response
