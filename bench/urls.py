"""Bench URLs: every production URL plus the baseline view of the dashboard benchmark."""

from django.urls import include, path

from . import baseline_views

urlpatterns = [
    path("bench/baseline", baseline_views.baseline, name="bench-baseline"),
    path(
        "bench/register-baseline",
        baseline_views.register_baseline,
        name="bench-register-baseline",
    ),
    path("bench/t/<str:code>", baseline_views.click_baseline, name="bench-click-baseline"),
    path("", include("sellercenter.urls")),
]
