from django.urls import path

from . import views, views_audience, views_imports
from .views import campaigns as views_campaigns
from .views import health as views_health

app_name = "mailing"
urlpatterns = [
    path("", views.index, name="index"),
    path("enable/", views.enable, name="enable"),
    path("setup/domain/", views.domain, name="domain"),
    path("setup/domain/check/", views.domain_check, name="domain_check"),
    path("setup/brand/", views.brand, name="brand"),
    path("setup/brand/logo/", views.brand_logo_private, name="brand_logo_private"),
    path("brand-logo/<str:token>/", views.brand_logo, name="brand_logo"),
    path("setup/templates/", views.templates, name="templates"),
    path("setup/templates/copy/", views.template_copy, name="template_copy"),
    path("setup/templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path(
        "setup/templates/<int:template_id>/preview/",
        views.template_preview,
        name="template_preview",
    ),
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
    # --- campaigns and the send log (SPEC M-5 to M-10) ---
    path("campaigns/", views_campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", views_campaigns.campaign_new, name="campaign_new"),
    path("campaigns/<int:campaign_id>/", views_campaigns.campaign_detail, name="campaign_detail"),
    path(
        "campaigns/<int:campaign_id>/progress",
        views_campaigns.campaign_progress,
        name="campaign_progress",
    ),
    path(
        "campaigns/<int:campaign_id>/content",
        views_campaigns.campaign_content,
        name="campaign_content",
    ),
    path(
        "campaigns/<int:campaign_id>/schedule",
        views_campaigns.campaign_schedule,
        name="campaign_schedule",
    ),
    path("campaigns/<int:campaign_id>/ab", views_campaigns.campaign_ab, name="campaign_ab"),
    path(
        "campaigns/<int:campaign_id>/test-send",
        views_campaigns.campaign_test_send,
        name="campaign_test_send",
    ),
    path(
        "campaigns/<int:campaign_id>/confirm",
        views_campaigns.campaign_confirm,
        name="campaign_confirm",
    ),
    path(
        "campaigns/<int:campaign_id>/pause", views_campaigns.campaign_pause, name="campaign_pause"
    ),
    path(
        "campaigns/<int:campaign_id>/resume",
        views_campaigns.campaign_resume,
        name="campaign_resume",
    ),
    path(
        "campaigns/<int:campaign_id>/cancel",
        views_campaigns.campaign_cancel,
        name="campaign_cancel",
    ),
    path(
        "campaigns/<int:campaign_id>/preview/",
        views_campaigns.campaign_preview,
        name="campaign_preview",
    ),
    path("campaigns/<int:campaign_id>/log/", views_campaigns.campaign_log, name="campaign_log"),
    path(
        "campaigns/<int:campaign_id>/log/<int:message_pk>/",
        views_campaigns.message_diagnose,
        name="message_diagnose",
    ),
    # --- health and statements (SPEC M-12, M-9) ---
    path("health/", views_health.health, name="health"),
    path("health/resume", views_health.health_resume, name="health_resume"),
    path("statements/", views_health.statements, name="statements"),
    path(
        "setup/templates/<int:template_id>/preview/frame/",
        views.template_preview_frame,
        name="template_preview_frame",
    ),
]
