"""tenants-connections-* URLs. The QuickBooks callback carries no organisation: the state names it."""

from __future__ import annotations

from django.urls import path

from tenants import connection_views as views

urlpatterns = [
    path("connections/qbo/callback/", views.qbo_callback, name="tenants-connections-qbo-callback"),
    # Registered with Intuit as the app's Disconnect URL.
    path(
        "connections/qbo/disconnected/", views.qbo_disconnected, name="tenants-connections-qbo-disconnected"
    ),
    path("o/<uuid:org_id>/connections/", views.overview, name="tenants-connections"),
    path(
        "o/<uuid:org_id>/connections/procurify/",
        views.procurify_settings,
        name="tenants-connections-procurify",
    ),
    path(
        "o/<uuid:org_id>/connections/procurify/test/",
        views.procurify_test,
        name="tenants-connections-procurify-test",
    ),
    path(
        "o/<uuid:org_id>/connections/qbo/connect/", views.qbo_connect, name="tenants-connections-qbo-connect"
    ),
    path(
        "o/<uuid:org_id>/connections/qbo/disconnect/",
        views.qbo_disconnect,
        name="tenants-connections-qbo-disconnect",
    ),
    path("o/<uuid:org_id>/connections/qbo/test/", views.qbo_test, name="tenants-connections-qbo-test"),
]
