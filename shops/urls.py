from django.urls import path

from . import views

app_name = "shops"
urlpatterns = [
    path("switch/", views.switch, name="switch"),
    path("products/", views.products, name="products"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("balance/", views.balance, name="balance"),
]
