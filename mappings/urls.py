"""mappings-* URLs: one table per kind (vendors, accounts), each row editable in place."""

from __future__ import annotations

from django.urls import path

from mappings import dimension_views, payment_views, views

urlpatterns = [
    path("o/<uuid:org_id>/tax-and-tracking/", dimension_views.page, name="mappings-dimensions"),
    path(
        "o/<uuid:org_id>/tax-and-tracking/settings/",
        dimension_views.save_settings,
        name="mappings-dimension-settings",
    ),
    path(
        "o/<uuid:org_id>/tax-and-tracking/<slug:slug>/<uuid:mapping_id>/",
        dimension_views.save,
        name="mappings-dimension-save",
    ),
    path("o/<uuid:org_id>/mappings/", views.index, name="mappings-index"),
    # Before the <slug:kind> tables: payment methods map to Bank/Credit Card accounts (issue 15).
    path(
        "o/<uuid:org_id>/mappings/payment-methods/",
        payment_views.payment_methods,
        name="mappings-payment-methods",
    ),
    path(
        "o/<uuid:org_id>/mappings/payment-methods/<uuid:mapping_id>/",
        payment_views.payment_method_save,
        name="mappings-payment-method-save",
    ),
    path("o/<uuid:org_id>/mappings/<slug:kind>/", views.mapping_list, name="mappings-list"),
    path("o/<uuid:org_id>/mappings/<slug:kind>/auto-match/", views.auto_match, name="mappings-auto-match"),
    path("o/<uuid:org_id>/mappings/<slug:kind>/<uuid:mapping_id>/", views.mapping_edit, name="mappings-edit"),
    path(
        "o/<uuid:org_id>/mappings/vendors/<uuid:mapping_id>/create-in-quickbooks/",
        views.vendor_create,
        name="mappings-create-vendor",
    ),
    path(
        "o/<uuid:org_id>/mappings/vendors/<uuid:mapping_id>/currency-twin/<str:currency>/",
        views.vendor_currency_twin,
        name="mappings-currency-twin",
    ),
    path(
        "o/<uuid:org_id>/mappings/vendors/<uuid:mapping_id>/suggestion/confirm/",
        views.suggestion_confirm,
        name="mappings-confirm-suggestion",
    ),
    path(
        "o/<uuid:org_id>/mappings/vendors/<uuid:mapping_id>/suggestion/dismiss/",
        views.suggestion_dismiss,
        name="mappings-dismiss-suggestion",
    ),
]
