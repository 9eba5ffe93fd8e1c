from __future__ import annotations

from django.urls import include, path

from tenants import views

urlpatterns = [
    path("", views.home, name="home"),
    path("orgs/", views.organisation_list, name="tenants-list"),
    path("orgs/new/", views.organisation_create, name="tenants-create"),
    path("invitations/<str:token>/", views.invitation_accept, name="tenants-invitation"),
    path("o/<uuid:org_id>/", views.dashboard, name="tenants-dashboard"),
    path("o/<uuid:org_id>/settings/", views.organisation_settings, name="tenants-settings"),
    path("o/<uuid:org_id>/members/", views.members, name="tenants-members"),
    path("o/<uuid:org_id>/notifications/", views.notifications, name="tenants-notifications"),
    path("o/<uuid:org_id>/members/<uuid:membership_id>/", views.member_update, name="tenants-member-update"),
    path(
        "o/<uuid:org_id>/invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="tenants-invitation-revoke",
    ),
    path("", include("tenants.connection_urls")),
]
