from django.urls import path

from . import views

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
]
