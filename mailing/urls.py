from django.urls import path

from . import views

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
    path(
        "setup/templates/<int:template_id>/preview/frame/",
        views.template_preview_frame,
        name="template_preview_frame",
    ),
]
