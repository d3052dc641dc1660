from django.urls import path

from . import views, views_audience, views_imports

app_name = "mailing"
urlpatterns = [
    path("", views.index, name="index"),
    # --- audience (SPEC B-8, M-3, M-4, M-13) ---
    path("audience/", views_audience.audience, name="audience"),
    path("audience/export.csv", views_audience.audience_export, name="audience_export"),
    path(
        "audience/confirm-requests",
        views_audience.audience_confirm_requests,
        name="audience_confirm_requests",
    ),
    path("audience/<int:buyer_id>/", views_audience.audience_buyer, name="audience_buyer"),
    path(
        "audience/<int:buyer_id>/confirm-request",
        views_audience.audience_buyer_confirm_request,
        name="audience_buyer_confirm_request",
    ),
    path(
        "audience/<int:buyer_id>/suppress",
        views_audience.audience_buyer_suppress,
        name="audience_buyer_suppress",
    ),
    path("suppressions/", views_audience.suppressions, name="suppressions"),
    path(
        "suppressions/<int:suppression_id>/remove",
        views_audience.suppression_remove,
        name="suppression_remove",
    ),
    path("segments/", views_audience.segment_list, name="segments"),
    path("segments/new/", views_audience.segment_edit, name="segment_new"),
    path("segments/preview", views_audience.segment_preview, name="segment_preview"),
    path("segments/<int:segment_id>/", views_audience.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/count", views_audience.segment_count, name="segment_count"),
    path("segments/<int:segment_id>/delete", views_audience.segment_delete, name="segment_delete"),
    path("imports/", views_imports.import_list, name="imports"),
    path("imports/<int:import_id>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:import_id>/progress", views_imports.import_progress, name="import_progress"),
    path("imports/<int:import_id>/confirm", views_imports.import_confirm, name="import_confirm"),
    path("confirm/<str:token>/", views_audience.confirm, name="confirm"),
]
