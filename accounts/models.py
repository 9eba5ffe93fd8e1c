"""Our own user model from day one, so that changing it later needs no data surgery."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    # Log-in is by e-mail (allauth); the username is generated and never shown.
    email = models.EmailField("e-mail address", unique=True)

    def __str__(self) -> str:
        return self.email or self.username
