from django.urls import path

from . import views
from .views import dashboard, issuance

app_name = "coins"
urlpatterns = [
    path("", views.index, name="index"),
    # SPEC C-7 issuance rules, the monthly ceiling; C-10 grade; C-11 dashboard.
    path("rules/", issuance.rule_list, name="rules"),
    path("rules/new/", issuance.rule_new, name="rule_new"),
    path("rules/<int:rule_id>/edit/", issuance.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/stop/", issuance.rule_stop, name="rule_stop"),
    path("rules/ceiling/", issuance.ceiling_set, name="ceiling"),
    path("grade/", dashboard.grade, name="grade"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
