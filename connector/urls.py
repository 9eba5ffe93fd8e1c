"""connector-* URLs: held records, record timelines, runs, sync now/progress and sync settings."""

from __future__ import annotations

from django.urls import path

from connector import activity_views, document_views, drift_views, reconcile_views, usage_views, views

urlpatterns = [
    path("o/<uuid:org_id>/held/", views.held_list, name="connector-held"),
    path("o/<uuid:org_id>/held/export/", document_views.held_export, name="connector-held-export"),
    path("o/<uuid:org_id>/documents/", document_views.document_list, name="connector-documents"),
    path(
        "o/<uuid:org_id>/documents/export/", document_views.document_export, name="connector-documents-export"
    ),
    path("o/<uuid:org_id>/held/retry/", views.held_retry_all, name="connector-held-retry-all"),
    path("o/<uuid:org_id>/held/<uuid:held_id>/retry/", views.held_retry, name="connector-held-retry"),
    path("o/<uuid:org_id>/held/<uuid:held_id>/ignore/", views.held_ignore, name="connector-held-ignore"),
    path(
        "o/<uuid:org_id>/held/<uuid:held_id>/delete-in-qbo/",
        views.held_delete_in_qbo,
        name="connector-held-delete-in-qbo",
    ),
    path(
        "o/<uuid:org_id>/records/<slug:object_type>/<str:procurify_id>/",
        views.record_detail,
        name="connector-record",
    ),
    path(
        "o/<uuid:org_id>/records/<slug:object_type>/<str:procurify_id>/replay/",
        views.record_replay,
        name="connector-record-replay",
    ),
    path("o/<uuid:org_id>/drift/", drift_views.drift_list, name="connector-drift"),
    path(
        "o/<uuid:org_id>/drift/<uuid:drift_id>/decide/",
        drift_views.drift_decide,
        name="connector-drift-decide",
    ),
    path("o/<uuid:org_id>/runs/", views.run_list, name="connector-runs"),
    path("o/<uuid:org_id>/usage/", usage_views.usage_page, name="connector-usage"),
    path("o/<uuid:org_id>/activity/", activity_views.activity_list, name="connector-activity"),
    path("o/<uuid:org_id>/runs/<uuid:run_id>/", views.run_detail, name="connector-run"),
    path("o/<uuid:org_id>/sync/now/", views.sync_now, name="connector-sync-now"),
    path("o/<uuid:org_id>/sync/start/", views.start_syncing, name="connector-start-syncing"),
    path("o/<uuid:org_id>/sync/progress/", views.sync_progress, name="connector-sync-progress"),
    path("o/<uuid:org_id>/sync/settings/", views.sync_settings, name="connector-settings"),
    path("o/<uuid:org_id>/sync/preview/", reconcile_views.preview_page, name="connector-preview"),
    path("o/<uuid:org_id>/reconciliation/", reconcile_views.reconciliation, name="connector-reconciliation"),
    path(
        "o/<uuid:org_id>/reconciliation/csv/",
        reconcile_views.reconciliation_csv,
        name="connector-reconciliation-csv",
    ),
]
