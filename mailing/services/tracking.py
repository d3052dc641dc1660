"""Tracking (SPEC M-11): opens, signed click redirects, one-click unsubscribe (RFC 8058), bounce
and complaint intake (SMTP DSN / ARF reports and a signed ESP webhook), and the orders placed
within 7 days of a click (an order-event consumer, ``mailing.consumers``)."""

from __future__ import annotations

import email
import email.message
import email.policy
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from core import clock

from .. import rules
from ..models import BounceKind, InboundEvent, Message, OrderAttribution
from . import dispatch

log = logging.getLogger(__name__)


def is_message_hex(value) -> bool:
    """Whether ``value`` can name a message: its Message-ID, 32 lowercase hex digits (anything
    else would make the UUID lookup raise)."""
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value) is not None


def message_for(token: str, salt: str) -> Message | None:
    """The message a signed token names; None for a tampered or foreign token."""
    try:
        hex_id = dispatch.token_value(token, salt)
    except signing.BadSignature:
        return None
    if not is_message_hex(hex_id):
        return None
    return Message.objects.select_related("shop").filter(message_id=hex_id).first()


def open_record(token: str, *, now: datetime | None = None) -> bool:
    """One UPDATE; a forged token records nothing. ``now``: when it was opened (default now)."""
    try:
        hex_id = dispatch.token_value(token, dispatch.OPEN_SALT)
    except signing.BadSignature:
        return False
    if not is_message_hex(hex_id):
        return False
    now = now or clock.now()
    return bool(
        Message.objects.filter(message_id=hex_id, sent_at__isnull=False).update(
            opens=F("opens") + 1, opened_at=Coalesce(F("opened_at"), now)
        )
    )


def link_hosts() -> frozenset[str]:
    """The hosts a click redirect may lead to (a setting: security configuration)."""
    return frozenset(h.strip().lower() for h in settings.SC_MAILING_LINK_HOSTS if h.strip())


def allowed_destination(url: str) -> bool:
    """http(s), a host of the allow-list (or its subdomain), no credentials, no odd bytes."""
    if not isinstance(url, str) or len(url) > 2000 or re.search(r"[\x00-\x20\\]", url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return False
    return any(host == h or host.endswith("." + h) for h in link_hosts())


def click_record(token: str, *, now: datetime | None = None) -> str | None:
    """The destination of a signed click link (recording the click at ``now``, default now),
    or None: tampered, unknown message, or a destination off the allow-list (never an open
    redirect)."""
    try:
        hex_id, url = dispatch.token_value(token, dispatch.CLICK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not is_message_hex(hex_id):
        return None
    if not allowed_destination(url):
        log.warning("click link of message %s leads off the allow-list", hex_id)
        return None
    now = now or clock.now()
    n = Message.objects.filter(message_id=hex_id, sent_at__isnull=False).update(
        clicks=F("clicks") + 1,
        clicked_at=now,
        opened_at=Coalesce(F("opened_at"), now),  # a click implies the message was opened
    )
    return url if n else None


def unsubscribe(message: Message, *, source: str, now: datetime | None = None) -> None:
    """SPEC M-3: honoured at once and for ever for that shop."""
    from mailing.services import audience

    now = now or clock.now()
    with transaction.atomic():
        audience.suppress(
            shop=message.shop,
            email=message.email,
            reason="unsubscribe",
            source=f"campaign:{message.campaign_id} {source}",
            at=now,
        )
        Message.objects.filter(pk=message.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now
        )


# --- bounces and complaints ------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    message_hex: str
    kind: str  # "hard", "soft" or "complaint"
    detail: str


def _first_once(source: str, event_id: str) -> bool:
    if not event_id:
        return True
    try:
        with transaction.atomic():
            InboundEvent.objects.create(source=source, event_id=event_id[:200])
    except IntegrityError:
        return False
    return True


def report_apply(
    report: Report, *, source: str, event_id: str = "", now: datetime | None = None
) -> bool:
    """Apply one bounce/complaint to its message: hard bounce → not billed (M-9) and quarantined
    30 days (M-10); complaint → suppressed for ever (M-3); soft bounce → recorded (billed).
    A replay (same source and event id) changes nothing. Returns whether it was applied."""
    from mailing.services import audience

    now = now or clock.now()
    if not is_message_hex(report.message_hex):
        log.info("%s report naming no message id: %.40r", source, report.message_hex)
        return False
    # Text from outside: PostgreSQL refuses a NUL character in a text column.
    event_id = event_id.replace("\x00", "")
    report = Report(report.message_hex, report.kind, report.detail.replace("\x00", ""))
    with transaction.atomic():
        if not _first_once(source, event_id):
            return False
        message = (
            Message.objects.select_related("shop").filter(message_id=report.message_hex).first()
        )
        if message is None:
            log.info("%s report for an unknown message %s", source, report.message_hex)
            return False
        if report.kind == "complaint":
            Message.objects.filter(pk=message.pk).update(
                complained_at=Coalesce(F("complained_at"), now)
            )
            audience.suppress(
                shop=message.shop,
                email=message.email,
                reason="complaint",
                source=f"{source}:{message.campaign_id}",
                at=now,
            )
        elif report.kind == "hard":
            Message.objects.filter(pk=message.pk).update(
                bounce=BounceKind.HARD,
                bounced_at=now,
                billable=False,
                error_code=550,
                error_detail=report.detail[:500],
            )
            dispatch.suppress_hard_bounce(
                shop=message.shop,
                email=message.email,
                source=f"{source}:{message.campaign_id}",
                at=now,
            )
        else:
            Message.objects.filter(pk=message.pk, bounce="").update(
                bounce=BounceKind.SOFT, bounced_at=now, error_detail=report.detail[:500]
            )
    return True


def _part_text(part) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n".join(p.as_string() for p in payload if isinstance(p, email.message.Message))
    return str(payload)


_VERP = re.compile(r"bounce\+([0-9a-f]{32})@", re.I)
_HEX_HEADER = re.compile(r"^X-SC-Message:\s*([0-9a-f]{32})\s*$", re.I | re.M)


def dsn_parse(raw: bytes) -> list[Report]:
    """An SMTP delivery status notification (RFC 3464) or an abuse report (ARF, RFC 5965) →
    the reports it carries. The message is named by the VERP address the DSN came back to or
    the ``X-SC-Message`` header of the returned headers."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    hex_id = ""
    for header in ("To", "Delivered-To", "X-Original-To"):
        m = _VERP.search(str(msg.get(header, "")))
        if m:
            hex_id = m.group(1).lower()
            break
    status_fields: list[dict[str, str]] = []
    feedback_type = ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            m = _HEX_HEADER.search(_part_text(part))
            if m and not hex_id:
                hex_id = m.group(1).lower()
        elif ctype == "message/delivery-status":
            payload = part.get_payload()
            for block in payload if isinstance(payload, list) else []:
                if isinstance(block, email.message.Message):
                    status_fields.append({k.lower(): str(v) for k, v in block.items()})
        elif ctype == "message/feedback-report":
            text = _part_text(part)
            m = re.search(r"^Feedback-Type:\s*(\S+)", text, re.I | re.M)
            feedback_type = m.group(1).lower() if m else "abuse"
    if not hex_id:
        return []
    if feedback_type:
        return [Report(hex_id, "complaint", f"feedback-type {feedback_type}")]
    reports = []
    for fields in status_fields:
        status = fields.get("status", "").strip()
        action = fields.get("action", "").strip().lower()
        if not status or action not in ("failed", "delayed"):
            continue
        kind = "hard" if status.startswith("5") and action == "failed" else "soft"
        detail = f"{status} {fields.get('diagnostic-code', '')}".strip()
        reports.append(Report(hex_id, kind, detail))
    return reports


def dsn_intake(raw: bytes) -> int:
    """Apply a DSN/ARF message (its Message-ID is the replay key). Returns reports applied."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    key = str(msg.get("Message-ID", "")).strip()
    applied = 0
    for i, report in enumerate(dsn_parse(raw)):
        if report_apply(report, source="dsn", event_id=f"{key}#{i}" if key else ""):
            applied += 1
    return applied


# --- orders after a click (SPEC M-11) ------------------------------------------------------------


def order_attribute(*, order_id: int, shop_id: int, buyer_id: int, ordered_at: datetime) -> bool:
    """The order is the campaign's whose message the buyer clicked last within 7 days before
    it. Idempotent (one row per order)."""
    since = ordered_at - timedelta(days=rules.attribution_days())
    message = (
        Message.objects.filter(
            shop_id=shop_id,
            buyer_id=buyer_id,
            clicked_at__gte=since,
            clicked_at__lte=ordered_at,
        )
        .order_by("-clicked_at")
        .only("pk", "campaign_id")
        .first()
    )
    if message is None:
        return False
    _row, created = OrderAttribution.objects.get_or_create(
        order_id=order_id,
        defaults={
            "shop_id": shop_id,
            "message_id": message.pk,
            "campaign_id": message.campaign_id,
            "ordered_at": ordered_at,
        },
    )
    return created
