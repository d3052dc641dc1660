from django.urls import path

from . import views
from .views import dashboard, issuance

app_name = "coins"
urlpatterns = [
    path("", views.index, name="index"),
    path("open/", views.account_open_view, name="open"),
    path("account/<str:action>/", views.account_status_view, name="account_status"),
    path("fund/", views.fund, name="fund"),
    path("products/", views.products, name="products"),
    path("buyers/", views.wallets, name="wallets"),
    path("buyers/<int:buyer_id>/", views.wallet_detail, name="wallet"),
    # SPEC C-7 issuance rules, the monthly ceiling; C-10 grade; C-11 dashboard.
    path("rules/", issuance.rule_list, name="rules"),
    path("rules/new/", issuance.rule_new, name="rule_new"),
    path("rules/<int:rule_id>/edit/", issuance.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/stop/", issuance.rule_stop, name="rule_stop"),
    path("rules/ceiling/", issuance.ceiling_set, name="ceiling"),
    path("grade/", dashboard.grade, name="grade"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
