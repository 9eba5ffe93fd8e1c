"""How a person is named on screen and in allauth's messages: by e-mail address, never by the
generated username (log-in is by e-mail; the username exists only because Django's user needs one)."""

from __future__ import annotations

from typing import Any


def user_display(user: Any) -> str:
    return getattr(user, "email", "") or "your account"
