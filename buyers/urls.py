from django.urls import path

from . import views

app_name = "buyers"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("verify/", views.verify, name="verify"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("forgot/", views.forgot, name="forgot"),
    path("reset/", views.reset, name="reset"),
    path("account/", views.account, name="account"),
    path("account/marketing/", views.marketing, name="marketing"),
    path("account/contact/", views.contact_change, name="contact_change"),
    path("account/contact/confirm/", views.contact_confirm, name="contact_confirm"),
    path("report/<str:token>/", views.report, name="report"),
]
