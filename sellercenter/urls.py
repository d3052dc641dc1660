from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from affiliate.redirect import click_redirect
from core import uploads
from core.auth import LoginView, ThrottledAdminAuthenticationForm

from . import views
from .api import api

# /admin/login/ is throttled like the seller sign-in (core.auth).
admin.site.login_form = ThrottledAdminAuthenticationForm
# Branded admin (templates/admin/base_site.html adds the favicon and static/css/admin.css).
admin.site.site_header = _("Seller Center administration")
admin.site.site_title = _("Seller Center admin")
admin.site.index_title = _("Platform administration")
# The app list beside every page took 275 px from the big change lists (orders: 10 columns);
# the index page and the breadcrumbs already lead everywhere.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # SPEC A-4: the affiliate click redirect (public, no session work).
    path("t/<str:code>", click_redirect, name="affiliate_click"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/login/", LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("files/<uuid:file_id>/", uploads.private_file_view, name="private_file"),
    path("shops/", include("shops.urls")),
    path("orders/", include("orders.urls")),
    path("coins/", include("coins.urls")),
    path("affiliate/", include("affiliate.urls")),
    path("mailing/", include("mailing.urls")),
    # SPEC M-11: the links inside marketing email (open pixel, clicks, one-click unsubscribe).
    path("m/", include("mailing.tracking_urls")),
    path("activities/", include("activities.urls")),
    path("buyer/", include("buyers.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
