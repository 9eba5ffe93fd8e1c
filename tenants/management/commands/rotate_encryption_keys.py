"""Re-encrypt every encrypted field under the newest key in FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first, keep the old ones after it, run this command, then remove
the old keys. Reading uses any key; saving always uses the first.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt all encrypted model fields with the newest FIELD_ENCRYPTION_KEYS entry."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = 0
            with transaction.atomic():
                # Loading decrypts with any key; saving encrypts with the newest one.
                for obj in model._default_manager.select_for_update().only("pk", *fields).iterator():
                    obj.save(update_fields=fields)
                    count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: re-encrypted {count} row(s)")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} row(s) re-encrypted under the newest key."))
