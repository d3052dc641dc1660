from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("", views.index, name="index"),
    path("monitor/", views.monitor, name="monitor"),
    path("reenrol/", views.reenrol, name="reenrol"),
    path("checks/", views.checks, name="checks"),
    path("reports/", views.reports, name="reports"),
    path("<int:activity_id>/", views.activity_detail, name="detail"),
    path("<int:activity_id>/precheck/", views.precheck, name="precheck"),
    path("<int:activity_id>/enrol/", views.enrol, name="enrol"),
    path("enrolments/<int:enrolment_id>/withdraw/", views.withdraw, name="withdraw"),
    path("exits/<int:exit_id>/", views.exit_detail, name="exit"),
]
