from django.urls import path

from . import views

app_name = "coins"
urlpatterns = [
    path("", views.index, name="index"),
    path("open/", views.account_open_view, name="open"),
    path("account/<str:action>/", views.account_status_view, name="account_status"),
    path("fund/", views.fund, name="fund"),
    path("products/", views.products, name="products"),
    path("buyers/", views.wallets, name="wallets"),
    path("buyers/<int:buyer_id>/", views.wallet_detail, name="wallet"),
]
