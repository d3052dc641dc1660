from django.urls import path

from . import views

app_name = "coins"
urlpatterns = [
    path("", views.index, name="index"),
]
