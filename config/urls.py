from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("tenants.urls")),
    path("", include("mappings.urls")),
    path("", include("connector.urls")),
]

handler404 = "config.errors.not_found"
handler403 = "config.errors.forbidden"
handler500 = "config.errors.server_error"
