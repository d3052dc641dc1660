"""The dispatch engine's records (SPEC M-8, M-9, M-10): part of ``mailing.services.dispatch``
(its public face; see its docstring). Claiming a batch under the shop's daily quota, and each
message's state moves — ``claimed → sending`` committed before the mail server is talked to,
``sent`` with its billing window after — in one statement per message; releases, retries,
failures and the ``unknown`` end.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection as db
from django.db import transaction
from django.db.models import F, Q

from core import clock

from .. import rules
from ..models import (
    BounceKind,
    Campaign,
    Message,
    MessageState,
    QuotaDay,
    SendingPause,
    Suppression,
)
from . import overlapped

log = logging.getLogger(__name__)

# The error codes of the send log (SPEC M-10) beside the mail server's own 4xx/5xx.
E_DOMAIN = 401  # sender domain not verified
E_QUOTA = 429  # daily quota reached
E_CONTENT = 422  # the message could not be built (rejected content, header injection, no footer)
E_UNKNOWN = 0  # the worker stopped while handing the message over


def account_enabled_at(shop) -> datetime | None:
    """When the shop enabled marketing email (its mailing account; SPEC M-8, M-9)."""
    account = getattr(shop, "mailing_account", None)
    if account is None:
        return None
    return getattr(account, "enabled_at", None) or getattr(account, "created_at", None)


# --- 2. claim under the quota ----------------------------------------------------------------


def quota_for(shop, *, now: datetime) -> int:
    """SPEC M-8: today's quota by the age of the shop's mailing account."""
    enabled = account_enabled_at(shop) or now
    return rules.daily_quota(account_age_days=(now - enabled).days)


def sending_paused(shop) -> bool:
    return SendingPause.objects.filter(shop=shop, ended_at__isnull=True).exists()


# SPEC M-3: an address suppressed since its message was written (unsubscribed, complained,
# bounced) is never mailed: the claim looks at the next due rows (``message_due``), marks those
# with an active suppression ``skipped`` (NOT EXISTS / EXISTS on the suppression list's (shop,
# email) index, one probe per row picked) and claims the others, in the same statement.
_CLAIM_SQL = """
WITH picked AS (
    SELECT m.id, EXISTS (
        SELECT 1 FROM mailing_suppression s
        WHERE s.shop_id = m.shop_id AND s.email = m.email
          AND (s.expires_at IS NULL OR s.expires_at > %s)
    ) AS suppressed
    FROM mailing_message m
    WHERE m.campaign_id = %s AND m.state = 'queued' AND m.due_at <= %s
    ORDER BY m.id LIMIT %s
    FOR UPDATE OF m SKIP LOCKED
), skipped AS (
    UPDATE mailing_message SET state = 'skipped', error_code = NULL, error_detail = %s
    WHERE id IN (SELECT id FROM picked WHERE suppressed)
    RETURNING id
), claimed AS (
    UPDATE mailing_message SET state = 'claimed', claimed_at = %s, claim_token = %s
    WHERE id IN (SELECT id FROM picked WHERE NOT suppressed)
    RETURNING id
)
SELECT id, true FROM claimed UNION ALL SELECT id, false FROM skipped
"""

SKIPPED_DETAIL = (
    "Not sent: the address is on the shop's suppression list (unsubscribed, complained or "
    "bounced) since the campaign was confirmed."
)


def _claim(
    campaign: Campaign,
    *,
    size: int,
    token: uuid.UUID,
    now: datetime,
    skipped: list[int] | None = None,
) -> list[int]:
    """Claim up to ``size`` due messages under the day's quota; the ids claimed. Due messages
    whose address is suppressed now are marked ``skipped`` instead (their ids appended to
    ``skipped``) and count against nothing (SPEC M-3)."""
    skipped = skipped if skipped is not None else []
    day = clock.natural_day(now)
    with transaction.atomic():
        QuotaDay.objects.get_or_create(shop_id=campaign.shop_id, day=day)
        # The quota row of the shop's day serialises its claims (one short lock per batch).
        quota = QuotaDay.objects.select_for_update().get(shop_id=campaign.shop_id, day=day)
        room = quota_for(campaign.shop, now=now) - quota.used
        if room <= 0:
            # SPEC M-8: over quota → 429 in the log; the rest waits for the next natural day.
            Message.objects.filter(
                campaign_id=campaign.pk, state=MessageState.QUEUED, due_at__lte=now
            ).update(
                error_code=E_QUOTA,
                error_detail="Daily sending quota reached; sent from the next day on.",
                due_at=clock.day_start(day + timedelta(days=1)),
            )
            return []
        if db.vendor == "postgresql":
            with db.cursor() as cur:
                cur.execute(
                    _CLAIM_SQL,
                    [now, campaign.pk, now, min(size, room), SKIPPED_DETAIL, now, token],
                )
                rows = cur.fetchall()
            ids = sorted(pk for pk, claimed in rows if claimed)
            skipped += sorted(pk for pk, claimed in rows if not claimed)
        else:
            # SQLite (the embedded default): the IMMEDIATE transaction holds the database's
            # one write lock, so no other worker claims between these reads and the updates.
            picked = list(
                Message.objects.filter(
                    campaign_id=campaign.pk, state=MessageState.QUEUED, due_at__lte=now
                )
                .order_by("id")
                .values_list("id", "email")[: min(size, room)]
            )
            suppressed = set(
                Suppression.objects.filter(
                    shop_id=campaign.shop_id, email__in=[email for _pk, email in picked]
                )
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
                .values_list("email", flat=True)
            )
            ids = [pk for pk, email in picked if email not in suppressed]
            gone = [pk for pk, email in picked if email in suppressed]
            Message.objects.filter(pk__in=gone).update(
                state=MessageState.SKIPPED, error_code=None, error_detail=SKIPPED_DETAIL
            )
            skipped += gone
            Message.objects.filter(pk__in=ids).update(
                state=MessageState.CLAIMED, claimed_at=now, claim_token=token
            )
        if ids:
            QuotaDay.objects.filter(pk=quota.pk).update(used=F("used") + len(ids))
    return ids


def _quota_give_back(shop_id: int, claimed_at: datetime, n: int = 1) -> None:
    """A claim that never reached the server does not count against the day's quota."""
    QuotaDay.objects.filter(shop_id=shop_id, day=clock.natural_day(claimed_at), used__gte=n).update(
        used=F("used") - n
    )


@dataclass(frozen=True)
class SendNumbers:
    """The registry numbers a batch needs, read once per batch (not once per message)."""

    dedupe_hours: int
    max_attempts: int

    @classmethod
    def read(cls) -> SendNumbers:
        return cls(rules.dedupe_hours(), rules.retry_max_attempts())


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    released: int = 0
    skipped: int = 0  # due, but suppressed since the campaign was confirmed (SPEC M-3)
    codes: dict[int, int] = field(default_factory=dict)


def _release(
    token: uuid.UUID, ids: list[int], shop_id: int, *, retry: bool, now: datetime | None = None
) -> int:
    """Claimed rows of this batch never handed to the server go back to the queue."""
    now = now or clock.now()
    rows = list(
        Message.objects.filter(pk__in=ids, claim_token=token, state=MessageState.CLAIMED).values(
            "pk", "claimed_at"
        )
    )
    if not rows:
        return 0
    n = Message.objects.filter(
        pk__in=[r["pk"] for r in rows], claim_token=token, state=MessageState.CLAIMED
    ).update(
        state=MessageState.QUEUED,
        claim_token=None,
        claimed_at=None,
        due_at=now + timedelta(seconds=rules.retry_delay_seconds(attempt=1)) if retry else now,
    )
    _quota_give_back(shop_id, rows[0]["claimed_at"] or now, n)
    return n


def _record(
    message: Message,
    token,
    *,
    state: str,
    code: int,
    detail: str,
    bounce: str = "",
    now: datetime | None = None,
) -> None:
    now = now or clock.now()
    Message.objects.filter(pk=message.pk, claim_token=token).update(
        state=state,
        error_code=code,
        error_detail=detail[:500],
        attempts=F("attempts") + 1,
        bounce=bounce,
        bounced_at=now if bounce else None,
    )
    message.error_code = code


def _retry(
    message: Message, token, code: int, detail: str, now: datetime, numbers: SendNumbers
) -> str:
    """SPEC M-10: a soft failure (4xx) is retried with backoff, then given up."""
    attempt = message.attempts + 1
    if attempt >= numbers.max_attempts:
        _record_soft_failed(message, token, code, detail, now, numbers.dedupe_hours)
        return "failed"
    Message.objects.filter(pk=message.pk, claim_token=token).update(
        state=MessageState.QUEUED,
        attempts=attempt,
        error_code=code,
        error_detail=detail,
        claim_token=None,
        claimed_at=None,
        due_at=now + timedelta(seconds=rules.retry_delay_seconds(attempt=attempt)),
    )
    _quota_give_back(message.shop_id, now)
    message.error_code = code
    return "retried"


# SPEC M-9 "soft bounces are billed": a message given up after its last soft (4xx) answer is
# a soft bounce, billable by the same 24-hour rule as a sent message (_SENT_SQL's window), in
# the month it was given up (``bounced_at``; it has no ``sent_at``).
_SOFT_FAILED_SQL = """
WITH w AS (
    INSERT INTO mailing_billingwindow (shop_id, email, started_at) VALUES (%s, %s, %s)
    ON CONFLICT (shop_id, email) DO UPDATE SET started_at = EXCLUDED.started_at
    WHERE mailing_billingwindow.started_at <= EXCLUDED.started_at - %s::integer * interval '1 hour'
    RETURNING id
)
UPDATE mailing_message
SET state = 'failed', error_code = %s, error_detail = %s, attempts = attempts + 1,
    bounce = 'soft', bounced_at = %s, billable = EXISTS (SELECT 1 FROM w)
WHERE id = %s AND claim_token = %s
"""


def _record_soft_failed(
    message: Message, token, code: int, detail: str, at: datetime, dedupe_hours: int
) -> None:
    if db.vendor == "postgresql":
        with db.cursor() as cur:
            cur.execute(
                _SOFT_FAILED_SQL,
                [
                    message.shop_id,
                    message.email,
                    at,
                    dedupe_hours,
                    code,
                    detail[:500],
                    at,
                    message.pk,
                    token,
                ],
            )
    else:
        with transaction.atomic():
            billable = _bill_window_portable(message.shop_id, message.email, at, dedupe_hours)
            Message.objects.filter(pk=message.pk, claim_token=token).update(
                state=MessageState.FAILED,
                error_code=code,
                error_detail=detail[:500],
                attempts=F("attempts") + 1,
                bounce=BounceKind.SOFT,
                bounced_at=at,
                billable=billable,
            )
    message.error_code = code


def _unknown(message: Message, token, detail: str) -> str:
    Message.objects.filter(pk=message.pk, claim_token=token).update(
        state=MessageState.UNKNOWN,
        error_code=E_UNKNOWN,
        error_detail=("Connection lost while handing the message over; not resent. " + detail)[
            :500
        ],
        attempts=F("attempts") + 1,
    )
    message.error_code = E_UNKNOWN
    return "unknown"


# SPEC M-9: billable unless a billable message went to this address in the last 24 h. The
# billing window's upsert and the 'sent' record are one statement (one round trip, atomic): two
# workers sending to one buyer at once bill it once.
_SENT_SQL = """
WITH w AS (
    INSERT INTO mailing_billingwindow (shop_id, email, started_at) VALUES (%s, %s, %s)
    ON CONFLICT (shop_id, email) DO UPDATE SET started_at = EXCLUDED.started_at
    WHERE mailing_billingwindow.started_at <= EXCLUDED.started_at - %s::integer * interval '1 hour'
    RETURNING id
)
UPDATE mailing_message
SET state = 'sent', sent_at = %s, attempts = attempts + 1, error_code = NULL,
    error_detail = '', billable = EXISTS (SELECT 1 FROM w)
WHERE id = %s AND claim_token = %s
"""


def _record_sent(message: Message, token, at: datetime, dedupe_hours: int) -> None:
    if db.vendor != "postgresql":
        _record_sent_portable(message, token, at, dedupe_hours)
        return
    with db.cursor() as cur:
        cur.execute(
            _SENT_SQL,
            [message.shop_id, message.email, at, dedupe_hours, at, message.pk, token],
        )


@dataclass
class _Pending:
    """The batch's message the server accepted whose 'sent' is not recorded yet (at most one:
    it is recorded in the same statement that marks the next message 'sending')."""

    message: Message | None = None
    at: datetime | None = None

    def flush(self, token, dedupe_hours: int) -> None:
        if self.message is not None and self.at is not None:
            _record_sent(self.message, token, self.at, dedupe_hours)
        self.message = self.at = None


# The previous message's 'sent' + billing window (as _SENT_SQL) and this message's 'sending'
# mark, in one autocommitted statement: one round trip per message, and never more than one
# row 'sending' (handed over, not yet recorded) at any moment.
_SENT_THEN_SENDING_SQL = """
WITH w AS (
    INSERT INTO mailing_billingwindow (shop_id, email, started_at) VALUES (%s, %s, %s)
    ON CONFLICT (shop_id, email) DO UPDATE SET started_at = EXCLUDED.started_at
    WHERE mailing_billingwindow.started_at <= EXCLUDED.started_at - %s::integer * interval '1 hour'
    RETURNING id
), prev AS (
    UPDATE mailing_message
    SET state = 'sent', sent_at = %s, attempts = attempts + 1, error_code = NULL,
        error_detail = '', billable = EXISTS (SELECT 1 FROM w)
    WHERE id = %s AND claim_token = %s
    RETURNING id
)
UPDATE mailing_message SET state = 'sending', claimed_at = %s
WHERE id = %s AND claim_token = %s AND state = 'claimed'
"""


_SENDING_SQL = """
UPDATE mailing_message SET state = 'sending', claimed_at = %s
WHERE id = %s AND claim_token = %s AND state = 'claimed'
"""


def _mark_sending(
    message: Message,
    token,
    now: datetime,
    pending: _Pending | None,
    dedupe_hours: int,
    meanwhile: Callable[[], None] | None = None,
) -> int:
    """Commit the row 'sending' before the server is talked to (recording the batch's pending
    'sent' in the same statement). Returns 1, or 0 when the row is no longer this batch's.

    On PostgreSQL the statement is sent and ``meanwhile`` runs while the server executes and
    commits it (``overlapped``); the result is read before this returns, so nothing is handed
    to the mail server before the row is committed 'sending'."""
    if db.vendor != "postgresql":
        if pending is not None:
            pending.flush(token, dedupe_hours)  # SQLite: the 'sent' first, then this 'sending'
        moved = Message.objects.filter(
            pk=message.pk, claim_token=token, state=MessageState.CLAIMED
        ).update(state=MessageState.SENDING, claimed_at=now)
        if meanwhile is not None:
            meanwhile()
        return moved
    if pending is None or pending.message is None or pending.at is None:
        return overlapped.execute(_SENDING_SQL, [now, message.pk, token], meanwhile)
    prev, at = pending.message, pending.at
    pending.message = pending.at = None
    return overlapped.execute(
        _SENT_THEN_SENDING_SQL,
        [
            prev.shop_id,
            prev.email,
            at,
            dedupe_hours,
            at,
            prev.pk,
            token,
            now,
            message.pk,
            token,
        ],
        meanwhile,
    )


def _record_sent_portable(message: Message, token, at: datetime, dedupe_hours: int) -> None:
    """``_SENT_SQL`` for SQLite (the embedded default, one writer at a time): the same window
    rule in one transaction."""
    with transaction.atomic():
        billable = _bill_window_portable(message.shop_id, message.email, at, dedupe_hours)
        Message.objects.filter(pk=message.pk, claim_token=token).update(
            state=MessageState.SENT,
            sent_at=at,
            attempts=F("attempts") + 1,
            error_code=None,
            error_detail="",
            billable=billable,
        )


def _bill_window_portable(shop_id: int, email: str, at: datetime, dedupe_hours: int) -> bool:
    """The billing window's rule (``_SENT_SQL``'s ``w``) for SQLite, inside the caller's
    transaction: whether a message to ``email`` at ``at`` is billable (and it opens a window)."""
    from ..models import BillingWindow

    window = BillingWindow.objects.filter(shop_id=shop_id, email=email).first()
    billable = window is None or window.started_at <= at - timedelta(hours=dedupe_hours)
    if window is None:
        BillingWindow.objects.create(shop_id=shop_id, email=email, started_at=at)
    elif billable:
        BillingWindow.objects.filter(pk=window.pk).update(started_at=at)
    return billable
