"""Public mail links (SPEC M-11), short and outside the seller pages: ``/m/…``."""

from django.urls import path

from . import public_views

app_name = "mailing_t"
urlpatterns = [
    path("o/<str:token>.gif", public_views.open_pixel, name="open"),
    path("c/<str:token>", public_views.click, name="click"),
    path("u/<str:token>", public_views.unsubscribe, name="unsubscribe"),
    path("hooks/esp", public_views.esp_webhook, name="esp_webhook"),
    path("hooks/dsn", public_views.dsn_webhook, name="dsn_webhook"),
]
