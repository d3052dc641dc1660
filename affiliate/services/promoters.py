"""Promoters, their PIDs and tracking links, and the PID freeze job (SPEC A-1, A-3)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from functools import partial
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.db.models.functions import Coalesce

from core import clock
from core.errors import DomainError, InvalidTransition
from shops.models import Product, Shop

from .. import rules
from ..models import Channel, Link, Pid, PidStatus, Promoter, PromoterStatus
from ..notices import notice_send
from . import clicks

log = logging.getLogger(__name__)


@transaction.atomic
def promoter_create(*, name: str, email: str) -> Promoter:
    """A promoter waiting for review (SPEC A-1), in trial until its first attributed paid order."""
    name, email = (name or "").strip(), (email or "").strip().lower()
    if not name or len(name) > 120 or "@" not in email:
        raise DomainError(
            "A promoter needs a name and an email address.", code="affiliate_bad_promoter"
        )
    if Promoter.objects.filter(email=email).exists():
        raise DomainError(
            "A promoter with this email already exists.", code="affiliate_duplicate_promoter"
        )
    # Created by an admin or the demo: straight into the review queue (no portal password).
    return Promoter.objects.create(name=name, email=email, submitted_at=clock.now())


@transaction.atomic
def promoter_approve(*, promoter: Promoter, by=None) -> Promoter:
    """SPEC A-1: the review's approval — PIDs open (one while in trial). Idempotent."""
    promoter = Promoter.objects.select_for_update().get(pk=promoter.pk)
    if promoter.status == PromoterStatus.APPROVED:
        return promoter
    if promoter.status != PromoterStatus.PENDING:
        raise InvalidTransition("Only a promoter whose documents wait for review can be approved.")
    now = clock.now()
    promoter.status = PromoterStatus.APPROVED
    promoter.approved_at = now
    promoter.reviewed_at = now
    promoter.reviewed_by = by
    promoter.rejection_reason = ""
    promoter.save(
        update_fields=[
            "status",
            "approved_at",
            "reviewed_at",
            "reviewed_by",
            "rejection_reason",
            "updated_at",
        ]
    )
    notice_send(promoter_id=promoter.pk, kind="approved", params={}, created_at=now)
    return promoter


@transaction.atomic
def cent_minimum_set(*, promoter: Promoter, enabled: bool) -> Promoter:
    """SPEC A-8: the "$0.01 minimum" switch; it changes no rate, only the rounding floor of
    commissions computed from now on."""
    Promoter.objects.filter(pk=promoter.pk).update(cent_minimum=bool(enabled))
    promoter.refresh_from_db()
    return promoter


@transaction.atomic
def pid_create(*, promoter: Promoter, channel: str, name: str = "") -> Pid:
    """SPEC A-3: a PID per channel; A-1: one only while the promoter is in trial."""
    promoter = Promoter.objects.select_for_update().get(pk=promoter.pk)
    if promoter.status != PromoterStatus.APPROVED:
        raise DomainError(
            "PIDs open once the promoter is approved.", code="affiliate_promoter_not_approved"
        )
    if channel not in Channel.values:
        raise DomainError("Choose one of the channels.", code="affiliate_bad_channel")
    rules.check_pid_count(trial=promoter.trial, existing=promoter.pids.count())
    return Pid.objects.create(
        promoter=promoter,
        code=f"mm_{promoter.pk}_{secrets.token_hex(4)}",
        channel=channel,
        name=(name or "").strip()[:120],
        active_since=clock.now(),
    )


@transaction.atomic
def pid_reactivate(*, pid: Pid) -> Pid:
    """SPEC A-3: the promoter reactivates a frozen PID; its idle period starts again."""
    pid = Pid.objects.select_for_update().get(pk=pid.pk)
    if pid.status != PidStatus.FROZEN:
        raise InvalidTransition("This PID is not frozen.")
    pid.status = PidStatus.ACTIVE
    pid.active_since = clock.now()
    pid.frozen_at = None
    pid.warned_at = None
    pid.save(update_fields=["status", "active_since", "frozen_at", "warned_at", "updated_at"])
    transaction.on_commit(partial(clicks.forget_links, pid_id=pid.pk))
    return pid


def _new_link_code() -> str:
    return secrets.token_urlsafe(9)[:12]


@transaction.atomic
def link_create(
    *,
    pid: Pid,
    shop: Shop,
    destination: str,
    product: Product | None = None,
    utm_campaign: str = "",
    sub_id: str = "",
) -> Link:
    """SPEC A-3: a tracking link to a shop or product page on the marketplace, with UTM
    parameters and the PID; SPEC A-4: only to allow-listed hosts (checked here and again at
    every redirect)."""
    clean = rules.check_destination(destination, hosts=rules.redirect_hosts())
    if product is not None and product.shop_id != shop.pk:
        raise DomainError("The product is not in this shop.", code="affiliate_bad_product")
    sub_id = (sub_id or "").strip()
    if len(sub_id) > 64 or len(utm_campaign or "") > 64:
        raise DomainError(
            "Sub-id and campaign are at most 64 characters.", code="affiliate_bad_link"
        )
    params = {"utm_source": "affiliate", "utm_medium": pid.channel, "aff_pid": pid.code}
    if utm_campaign:
        params["utm_campaign"] = utm_campaign
    if sub_id:
        params["aff_sub"] = sub_id
    parts = urlsplit(clean)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    final = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    final = rules.check_destination(final, hosts=rules.redirect_hosts())
    return Link.objects.create(
        pid=pid, shop=shop, product=product, code=_new_link_code(), destination=final, sub_id=sub_id
    )


def pids_freeze(*, now: datetime | None = None) -> dict[str, int]:
    """SPEC A-3, daily: warn the promoter of a PID idle for ``pid_warn_after`` (day 23) and
    freeze a PID with no valid click for ``pid_freeze_after`` (30 days). Idle time counts from
    the last valid click, or from when the PID became active. Safe to run twice."""
    now = now or clock.now()
    warn_after, freeze_after = rules.pid_warn_after(), rules.pid_freeze_after()
    warned = frozen = 0
    candidates = (
        Pid.objects.filter(status=PidStatus.ACTIVE)
        .annotate(last=Coalesce("last_valid_click_at", "active_since"))
        .filter(last__lte=now - warn_after)
        .values_list("pk", flat=True)
    )
    for pid_id in list(candidates):
        with transaction.atomic():
            pid = Pid.objects.select_for_update().get(pk=pid_id)
            last = pid.last_valid_click_at or pid.active_since
            if pid.last_valid_click_at and pid.active_since > last:
                last = pid.active_since
            state = rules.freeze_state(
                last_activity=last, now=now, warn_after=warn_after, freeze_after=freeze_after
            )
            if pid.status != PidStatus.ACTIVE or state == "active":
                continue
            if state == "freeze":
                pid.status = PidStatus.FROZEN
                pid.frozen_at = now
                pid.save(update_fields=["status", "frozen_at", "updated_at"])
                notice_send(
                    promoter_id=pid.promoter_id,
                    pid_id=pid.pk,
                    kind="pid_frozen",
                    params={"pid": pid.code, "days": freeze_after.days},
                    created_at=now,
                )
                transaction.on_commit(partial(clicks.forget_links, pid_id=pid.pk))
                frozen += 1
            elif pid.warned_at is None or pid.warned_at < last:
                pid.warned_at = now
                pid.save(update_fields=["warned_at", "updated_at"])
                days_left = (last + freeze_after - now).days
                notice_send(
                    promoter_id=pid.promoter_id,
                    pid_id=pid.pk,
                    kind="pid_idle",
                    params={"pid": pid.code, "days": (now - last).days, "left": max(days_left, 1)},
                    created_at=now,
                )
                warned += 1
    if warned or frozen:
        log.info("affiliate PIDs: %d warned, %d frozen", warned, frozen)
    return {"warned": warned, "frozen": frozen}
