from django.urls import path

from . import views, views_postmortem

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
    path("appeals/", views_postmortem.appeals, name="appeals"),
    path("exits/<int:exit_id>/postmortem/", views_postmortem.postmortem, name="postmortem"),
    path(
        "exits/<int:exit_id>/postmortem/file/",
        views_postmortem.postmortem_file,
        name="postmortem_file",
    ),
    path("exits/<int:exit_id>/appeal/", views_postmortem.appeal, name="appeal"),
    path("exits/<int:exit_id>/appeal/open/", views_postmortem.appeal_open, name="appeal_open"),
]
