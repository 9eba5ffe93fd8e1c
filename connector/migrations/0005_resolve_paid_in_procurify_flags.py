"""The sweep's one-shot "paid in Procurify" flags (keyed by bill uuid) are replaced by the payments step
(connector/sync/payments.py), whose holds are keyed by payment uuid: resolve the old flags so they do not
linger on the held list."""

from django.db import migrations
from django.utils import timezone


def resolve_flags(apps, schema_editor):
    HeldRecord = apps.get_model("connector", "HeldRecord")
    HeldRecord.objects.filter(object_type="payment", reason_code="paid_in_procurify").exclude(
        state="resolved"
    ).update(state="resolved", resolved_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("connector", "0004_document_summary")]

    operations = [migrations.RunPython(resolve_flags, migrations.RunPython.noop)]
