"""Pluggable SMS backends (SPEC B-2), chosen by ``settings.SC_BUYER_SMS_BACKEND``.

- ``FileSmsBackend`` (default): one file per message under ``SC_VAR_DIR/sms`` — development;
- ``ConsoleSmsBackend``: prints to stdout (not through logging: codes never reach the logs);
- ``LocmemSmsBackend``: ``buyers.sms.outbox`` (tests, like ``django.core.mail.outbox``);
- ``HttpSmsBackend``: POSTs ``{"to": "+86…", "text": "…"}`` as JSON to
  ``SC_BUYER_SMS_HTTP_URL`` with ``Authorization: Bearer SC_BUYER_SMS_HTTP_TOKEN`` — the
  interface a production provider adapter implements (any 2xx is success).

A backend implements ``send(*, to: str, text: str) -> None`` and raises ``SmsError`` on failure.
"""

from __future__ import annotations

import json
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from core import clock


class SmsError(Exception):
    pass


@dataclass(frozen=True)
class Sms:
    to: str
    text: str


outbox: list[Sms] = []


class BaseSmsBackend:
    def send(self, *, to: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LocmemSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, text: str) -> None:
        outbox.append(Sms(to=to, text=text))


class ConsoleSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, text: str) -> None:
        sys.stdout.write(f"SMS to {to}: {text}\n")
        sys.stdout.flush()


class FileSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, text: str) -> None:
        folder = Path(settings.VAR_DIR) / "sms"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{clock.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.txt"
        (folder / name).write_text(f"To: {to}\n\n{text}\n", encoding="utf-8")


class HttpSmsBackend(BaseSmsBackend):
    timeout = 10

    def send(self, *, to: str, text: str) -> None:
        url = settings.SC_BUYER_SMS_HTTP_URL
        if not url.startswith(("https://", "http://")):
            raise SmsError("SC_BUYER_SMS_HTTP_URL is not an http(s) URL.")
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            data=json.dumps({"to": to, "text": text}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SC_BUYER_SMS_HTTP_TOKEN}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise SmsError(f"SMS provider answered {response.status}.")
        except OSError as exc:
            raise SmsError(f"SMS provider unreachable: {type(exc).__name__}") from None


def send_sms(*, to: str, text: str) -> None:
    backend = import_string(settings.SC_BUYER_SMS_BACKEND)()
    backend.send(to=to, text=text)
