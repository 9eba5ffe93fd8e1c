from __future__ import annotations

from django.apps import AppConfig


class ConnectorConfig(AppConfig):
    name = "connector"
    verbose_name = "Sync engine"

    def ready(self) -> None:
        from connector import document_summary

        document_summary.connect()  # keeps DocumentSummary in step with the bills and POs read
