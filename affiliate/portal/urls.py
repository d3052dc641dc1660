from django.urls import path

from . import report_views, views

app_name = "promoter"
urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/forgot/", views.forgot, name="forgot"),
    path("password/reset/<str:token>/", views.reset, name="reset"),
    path("onboarding/", views.onboarding_page, name="onboarding"),
    path("onboarding/documents/", views.document_upload, name="document_upload"),
    path("onboarding/documents/<int:document_id>/", views.document_file, name="document_file"),
    path("onboarding/submit/", views.submit, name="submit"),
    path("pids/", views.pids, name="pids"),
    path("pids/<int:pid_id>/reactivate/", views.pid_reactivate, name="pid_reactivate"),
    path("shops/", views.shops, name="shops"),
    path("links/", views.links, name="links"),
    path("reports/", views.reports, name="reports"),
    # SPEC A-9: the daily commission report and the CSV exports.
    path("reports/daily/", report_views.report, name="report"),
    path("reports/daily.csv", report_views.report_csv, name="report_csv"),
    path("reports/pending.csv", report_views.pending_csv, name="pending_csv"),
    path("account/", views.account, name="account"),
    path("diagnose/", views.diagnose, name="diagnose"),
    path("payouts/", views.payouts, name="payouts"),
]
