import os

from django.apps import AppConfig


class EventProbeConfig(AppConfig):
    name = "tests.eventprobe"
    label = "eventprobe"

    def ready(self) -> None:
        if os.environ.get("SC_EVENT_PROBE") == "1":
            from .consumer import register

            register()
