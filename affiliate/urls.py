from django.urls import path

from . import report_views, views

app_name = "affiliate"
urlpatterns = [
    path("", views.index, name="index"),
    path("programme/", views.programme_save, name="programme_save"),
    path("programme/stop/", views.programme_stop, name="programme_stop"),
    path("rates/", views.rate_save, name="rate_save"),
    path("rates/remove/", views.rate_remove, name="rate_remove"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:commission_id>/", views.commission, name="commission"),
    path("promoters/", views.promoters, name="promoters"),
    path("diagnose/", views.diagnose, name="diagnose"),
    # SPEC A-9: the seller's reports and their CSV exports.
    path("report/", report_views.report, name="report"),
    path("report.csv", report_views.report_csv, name="report_csv"),
    path("pending/", report_views.pending, name="pending"),
    path("pending.csv", report_views.pending_csv, name="pending_csv"),
]
