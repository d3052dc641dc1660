from django.urls import path

from . import views

app_name = "affiliate"
urlpatterns = [
    path("", views.index, name="index"),
]
