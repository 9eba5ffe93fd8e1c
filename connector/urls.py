"""connector-* URLs: held records, record timelines, runs, sync now/progress and sync settings."""

from __future__ import annotations

from django.urls import path

from connector import activity_views, usage_views, views

urlpatterns = [
    path("o/<uuid:org_id>/held/", views.held_list, name="connector-held"),
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
    path("o/<uuid:org_id>/runs/", views.run_list, name="connector-runs"),
    path("o/<uuid:org_id>/usage/", usage_views.usage_page, name="connector-usage"),
    path("o/<uuid:org_id>/activity/", activity_views.activity_list, name="connector-activity"),
    path("o/<uuid:org_id>/runs/<uuid:run_id>/", views.run_detail, name="connector-run"),
    path("o/<uuid:org_id>/sync/now/", views.sync_now, name="connector-sync-now"),
    path("o/<uuid:org_id>/sync/progress/", views.sync_progress, name="connector-sync-progress"),
    path("o/<uuid:org_id>/sync/settings/", views.sync_settings, name="connector-settings"),
]
