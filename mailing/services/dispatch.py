"""The dispatch engine (SPEC M-5, M-6, M-8, M-9, M-10): recipients → message rows → mail.

1. **Materialise** (``campaign_materialize``): the campaign's recipients are streamed from the
   audience (``mailing.segments.recipients``, a generator) into one ``Message`` row each, in
   chunks of ``MATERIALIZE_CHUNK`` (never all in memory). ``INSERT … ON CONFLICT DO NOTHING`` on
   (campaign, email) makes a re-run after a crash idempotent. Each row's ``due_at`` is the chosen
   local time in the recipient's site time zone (M-5); under an A/B test (M-6) a share of the
   rows gets variant A or B and the rest is held for the winner.
2. **Claim** (``batch_send``): in one short transaction, under the shop's quota row for the
   natural day (M-8), up to a batch of due rows move ``queued → claimed``
   (``SELECT … FOR UPDATE SKIP LOCKED``: workers never share a row) and the quota counter grows.
   Over quota, the due rows get error 429 and wait for the next natural day.
3. **Send**, one message at a time over one connection: the row moves ``claimed → sending``
   (committed) *before* the mail server is talked to, then ``sent`` (committed) after it
   accepted the message — recorded in the same statement that marks the next message
   ``sending`` (``_SENT_THEN_SENDING_SQL``; the batch's last one at its end), so one round trip
   per message and never more than one row ``sending``. Per batch, not per message: the DKIM
   key (``dkim.KeySigner``), the registry numbers, and the render of each (content, language)
   (``_render``: the message's own unsubscribe link swapped for a stand-in).
   A 4xx answer puts it back in the queue with backoff; a 5xx fails it
   (550: address quarantined 30 days); an ambiguous end (connection lost mid-transfer) leaves it
   ``unknown``.
4. **Recover** (``claims_recover``, beat): a worker that died (SIGKILL, OOM) leaves rows
   ``claimed`` or ``sending``. Claimed rows were never handed to the server: they go back to the
   queue. The one ``sending`` row may or may not have left: it becomes ``unknown`` and is
   **never resent** — a message is never sent twice (README "Dispatch").
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import smtplib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection as db
from django.db import transaction
from django.db.models import F
from django.utils.module_loading import import_string

from core import clock
from core.errors import DomainError

from .. import rules
from ..models import (
    BounceKind,
    Campaign,
    CampaignContent,
    CampaignStatus,
    Message,
    MessageState,
    QuotaDay,
    SendingPause,
)
from ..segments import Recipient
from . import overlapped
from .dispatch_message import (  # noqa: F401  (the public face of the engine)
    CLICK_SALT,
    OPEN_SALT,
    UNSUBSCRIBE_SALT,
    Built,
    Links,
    Sender,
    SignedEmail,
    _sign,
    brand_for,
    build_message,
    check_header_value,
    click_url,
    open_pixel_url,
    public_url,
    sender_for,
    token_value,
    tracking_token,
    unsubscribe_url,
)

log = logging.getLogger(__name__)

MATERIALIZE_CHUNK = 1000
# The error codes of the send log (SPEC M-10) beside the mail server's own 4xx/5xx.
E_DOMAIN = 401  # sender domain not verified
E_QUOTA = 429  # daily quota reached
E_CONTENT = 422  # the message could not be built (rejected content, header injection, no footer)
E_UNKNOWN = 0  # the worker stopped while handing the message over


# --- test hooks: a killed worker is simulated by replacing these (tests/mailing) -------------


def _before_send(message: Message) -> None:
    """Called after the row is committed ``sending``, before the server is talked to."""


def _after_send(message: Message) -> None:
    """Called after the server accepted the message, before ``sent`` is recorded."""


# --- what other parts of the module provide ----------------------------------------------------


def recipients_for(campaign: Campaign) -> Iterator[Recipient]:
    """The campaign's audience after suppression and consent (SPEC M-3, M-4), streamed."""
    from mailing import segments

    yield from segments.recipients(campaign.segment, shop=campaign.shop)


def account_enabled_at(shop) -> datetime | None:
    """When the shop enabled marketing email (its mailing account; SPEC M-8, M-9)."""
    account = getattr(shop, "mailing_account", None)
    if account is None:
        return None
    return getattr(account, "enabled_at", None) or getattr(account, "created_at", None)


def suppress_hard_bounce(*, shop, email: str, source: str, at: datetime) -> None:
    """SPEC M-3/M-10: a rejected address joins the suppression list for 30 days."""
    from mailing.services import audience

    audience.suppress(
        shop=shop,
        email=email,
        reason="hard_bounce",
        source=source,
        expires_at=at + timedelta(days=rules.hard_bounce_quarantine_days()),
        at=at,
    )


# --- 1. materialise -----------------------------------------------------------------------------


def bucket(campaign_id: int, email: str) -> int:
    """A stable 0-9999 bucket of a recipient (SPEC M-6 split), independent of stream order."""
    digest = hashlib.blake2b(f"{campaign_id}:{email}".encode(), digest_size=4).digest()
    return int.from_bytes(digest) % 10000


def variant_for(campaign: Campaign, email: str) -> str:
    """SPEC M-6: A or B for the test share (half each), '' (held for the winner) for the rest."""
    if not campaign.ab_enabled:
        return "A"
    b = bucket(campaign.pk, email)
    share = campaign.ab_test_percent * 100
    if b >= share:
        return ""
    return "A" if b < share // 2 else "B"


def local_due_at(campaign: Campaign, time_zone: str, *, now: datetime) -> datetime:
    """SPEC M-5: the chosen local date and time in the recipient's zone (UTC if unknown); now
    when no time was chosen or it has passed there."""
    if campaign.send_on is None or campaign.send_at_local is None:
        return now
    try:
        tz = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    at = datetime.combine(campaign.send_on, campaign.send_at_local, tzinfo=tz)
    return max(at, now)


def campaign_materialize(*, campaign_id: int, now: datetime | None = None) -> int:
    """Stream the campaign's recipients into message rows; returns the rows written by this
    run. Safe to run again (after a crash): rows already there are kept as they are."""
    now = now or clock.now()
    campaign = Campaign.objects.select_related("shop").get(pk=campaign_id)
    if campaign.status != CampaignStatus.SCHEDULED or campaign.materialized_at is not None:
        return 0
    written = 0
    for chunk in _chunks(recipients_for(campaign), MATERIALIZE_CHUNK):
        rows = []
        for r in chunk:
            variant = variant_for(campaign, r.email)
            rows.append(
                Message(
                    campaign_id=campaign.pk,
                    shop_id=campaign.shop_id,
                    buyer_id=r.buyer_id,
                    email=r.email,
                    language=(r.language or campaign.default_language)[:8],
                    site=(r.site or "")[:8],
                    time_zone=(r.time_zone or "")[:64],
                    variant=variant,
                    state=MessageState.QUEUED if variant else MessageState.HELD,
                    due_at=local_due_at(campaign, r.time_zone, now=now) if variant else None,
                )
            )
        # One statement per chunk; a recipient already written by an earlier run is skipped.
        created = Message.objects.bulk_create(rows, ignore_conflicts=True)
        written += len(created)
    with transaction.atomic():
        total = Message.objects.filter(campaign_id=campaign.pk).count()
        first_due = (
            Message.objects.filter(campaign_id=campaign.pk, due_at__isnull=False)
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        updates: dict[str, Any] = {
            "materialized_at": now,
            "recipients_total": total,
            "status": CampaignStatus.SENDING,
        }
        if campaign.ab_enabled:
            updates["ab_decide_at"] = (first_due or now) + timedelta(hours=campaign.ab_wait_hours)
        Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(**updates)
    log.info("campaign %s: %s recipients queued", campaign.pk, total)
    return written


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- 2. claim under the quota ----------------------------------------------------------------


def quota_for(shop, *, now: datetime) -> int:
    """SPEC M-8: today's quota by the age of the shop's mailing account."""
    enabled = account_enabled_at(shop) or now
    return rules.daily_quota(account_age_days=(now - enabled).days)


def sending_paused(shop) -> bool:
    return SendingPause.objects.filter(shop=shop, ended_at__isnull=True).exists()


_CLAIM_SQL = """
UPDATE mailing_message SET state = 'claimed', claimed_at = %s, claim_token = %s
WHERE id IN (
    SELECT id FROM mailing_message
    WHERE campaign_id = %s AND state = 'queued' AND due_at <= %s
    ORDER BY id LIMIT %s
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def _claim(campaign: Campaign, *, size: int, token: uuid.UUID, now: datetime) -> list[int]:
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
                cur.execute(_CLAIM_SQL, [now, token, campaign.pk, now, min(size, room)])
                ids = sorted(row[0] for row in cur.fetchall())
        else:
            # SQLite (the embedded default): the IMMEDIATE transaction holds the database's
            # one write lock, so no other worker claims between this read and the update.
            ids = list(
                Message.objects.filter(
                    campaign_id=campaign.pk, state=MessageState.QUEUED, due_at__lte=now
                )
                .order_by("id")
                .values_list("id", flat=True)[: min(size, room)]
            )
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


# --- 3. send ----------------------------------------------------------------------------------


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
    codes: dict[int, int] = field(default_factory=dict)


def connection():
    """The marketing mail connection: ``settings.SC_MAILING_EMAIL_BACKEND`` (with
    ``SC_MAILING_EMAIL_OPTIONS``) when set, else the default mailer (SMTP, or an ESP through
    django-anymail)."""
    path = getattr(settings, "SC_MAILING_EMAIL_BACKEND", "")
    if path:
        return import_string(path)(**getattr(settings, "SC_MAILING_EMAIL_OPTIONS", {}))
    return mailers.default


def batch_send(*, campaign_id: int, size: int | None = None, conn=None) -> BatchResult:
    """Claim and send one batch of the campaign's due messages (see the module docstring).
    ``conn``: the mail connection to hand the messages to (default ``connection()``); the demo
    passes a discarding one (record-only: built, signed and recorded, delivered nowhere)."""
    result = BatchResult()
    now = clock.now()
    campaign = Campaign.objects.select_related("shop").get(pk=campaign_id)
    if campaign.status != CampaignStatus.SENDING or sending_paused(campaign.shop):
        return result
    try:
        sender = sender_for(campaign.shop)
    except DomainError as exc:
        if str(getattr(exc, "code", "")) not in {"401", "domain_not_verified"}:
            raise
        # SPEC M-10: 401 — nothing leaves until the domain verifies (DNS can take 48 h).
        Message.objects.filter(
            campaign_id=campaign.pk, state=MessageState.QUEUED, due_at__lte=now
        ).update(
            error_code=E_DOMAIN, error_detail=exc.message[:500], due_at=now + timedelta(hours=1)
        )
        return result
    if sender.dkim is not None:
        from mailing import dkim

        # The domain's key decrypted and parsed once for the batch (held in memory only).
        sender = dataclasses.replace(sender, signer=dkim.KeySigner(sender.dkim))
    token = uuid.uuid4()
    ids = _claim(campaign, size=size or rules.batch_size(), token=token, now=now)
    result.claimed = len(ids)
    if not ids:
        return result
    contents = _contents(campaign)
    brand = brand_for(campaign.shop)
    numbers = SendNumbers.read()
    conn = conn if conn is not None else connection()
    try:
        conn.open()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("campaign %s: mail server unreachable: %s", campaign.pk, exc)
        result.released = _release(token, ids, campaign.shop_id, retry=True)
        return result
    renders: dict = {}  # each (content, language) rendered once per batch
    pending = _Pending()

    def prepare(m: Message) -> Built | DomainError:
        return _prepare(campaign, m, sender, contents, brand, renders)

    try:
        rows = list(Message.objects.filter(pk__in=ids, claim_token=token).order_by("id"))
        ahead: Built | DomainError | None = prepare(rows[0]) if rows else None
        for i, message in enumerate(rows):
            following = rows[i + 1] if i + 1 < len(rows) else None
            current, ahead = ahead, None
            made: list[Built | DomainError] = []

            def build_following(following=following, made=made) -> None:
                if following is not None:
                    made.append(prepare(following))

            outcome = _send_one(
                conn,
                campaign,
                message,
                sender,
                contents,
                token,
                brand,
                numbers,
                renders=renders,
                pending=pending,
                built=current,
                meanwhile=build_following,
            )
            setattr(result, outcome, getattr(result, outcome) + 1)
            if message.error_code is not None:
                result.codes[message.error_code] = result.codes.get(message.error_code, 0) + 1
            if outcome == "unknown":
                break  # the connection is in an unknown state: hand the rest back
            if following is not None:
                ahead = made[0] if made else prepare(following)
    finally:
        pending.flush(token, numbers.dedupe_hours)
        try:
            conn.close()
        except Exception:
            log.debug("closing the mail connection failed", exc_info=True)
        result.released += _release(token, ids, campaign.shop_id, retry=False)
    _finish_if_done(campaign.pk)
    log.info(
        "campaign %s batch: claimed %s sent %s retried %s failed %s unknown %s",
        campaign.pk,
        result.claimed,
        result.sent,
        result.retried,
        result.failed,
        result.unknown,
    )
    return result


def _release(token: uuid.UUID, ids: list[int], shop_id: int, *, retry: bool) -> int:
    """Claimed rows of this batch never handed to the server go back to the queue."""
    now = clock.now()
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


def _contents(campaign: Campaign) -> dict[tuple[str, str], CampaignContent]:
    return {(c.variant, c.language): c for c in campaign.contents.all()}


def pick_content(
    contents: dict[tuple[str, str], CampaignContent], *, variant: str, language: str, default: str
) -> CampaignContent | None:
    """SPEC M-5: the recipient's language variant, else the campaign's default language."""
    for key in ((variant, language), (variant, default), ("A", language), ("A", default)):
        if key in contents:
            return contents[key]
    return next(iter(contents.values()), None)


def _smtp_code(exc: BaseException, rcpt: str) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answer = exc.recipients.get(rcpt) or next(iter(exc.recipients.values()), None)
        return int(answer[0]) if answer else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return None


def _hand_over(conn, built: Built):
    """Give the message to the mail server. Django's SMTP backend: its open connection's
    ``sendmail`` with the signed bytes, as the backend itself would do (minus rebuilding the
    addresses it would find unchanged); other mailers (ESP, locmem): ``send_messages`` with the
    message as a Django email, which is returned."""
    smtp = getattr(conn, "connection", None) if isinstance(conn, SmtpBackend) else None
    if smtp is not None and built.envelope.isascii() and all(a.isascii() for a in built.to):
        smtp.sendmail(built.envelope, built.to, built.data)
        return None
    email = built.email
    conn.send_messages([email])
    return email


def _prepare(
    campaign: Campaign, message: Message, sender: Sender, contents: dict, brand, renders
) -> Built | DomainError:
    """The message built and signed, or why it cannot be (recorded when its turn comes)."""
    content = pick_content(
        contents,
        variant=message.variant,
        language=message.language,
        default=campaign.default_language,
    )
    try:
        if content is None:
            raise DomainError("The campaign has no content.", code="lint")
        return build_message(campaign, message, sender, content, brand=brand, renders=renders)
    except DomainError as exc:
        return exc


def _send_one(
    conn,
    campaign: Campaign,
    message: Message,
    sender: Sender,
    contents: dict,
    token: uuid.UUID,
    brand=None,
    numbers: SendNumbers | None = None,
    renders: dict | None = None,
    pending: _Pending | None = None,
    built: Built | DomainError | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> str:
    """Send one claimed message (``built``: already built, else built here). ``meanwhile`` runs
    while the database commits the row 'sending' (the batch builds its next message then)."""
    now = clock.now()
    numbers = numbers or SendNumbers.read()
    if built is None:
        built = _prepare(campaign, message, sender, contents, brand, renders)
    if isinstance(built, DomainError):
        _record(message, token, state=MessageState.FAILED, code=E_CONTENT, detail=built.message)
        return "failed"
    # Committed before the server is talked to: a worker that dies from here on leaves the row
    # 'sending', which recovery turns into 'unknown' (never resent).
    moved = _mark_sending(message, token, now, pending, numbers.dedupe_hours, meanwhile)
    if not moved:
        return "released"  # recovered meanwhile by someone else: not ours any more
    _before_send(message)
    try:
        handed = _hand_over(conn, built)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
        code = _smtp_code(exc, message.email) or 451
        detail = str(exc)[:500]
        if rules.is_hard_failure(code):
            # SPEC M-10: 550 recipient unknown/rejected → quarantined 30 days (M-3).
            _record(
                message,
                token,
                state=MessageState.FAILED,
                code=code,
                detail=detail,
                bounce=BounceKind.HARD,
            )
            suppress_hard_bounce(
                shop=campaign.shop, email=message.email, source=f"campaign:{campaign.pk}", at=now
            )
            return "failed"
        return _retry(message, token, code, detail, now, numbers)
    except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
        return _unknown(message, token, str(exc)[:500])
    # django-anymail's per-recipient answer
    status = getattr(handed, "anymail_status", None) if handed is not None else None
    if (
        status is not None
        and getattr(status, "status", None)
        and status.status <= {"rejected", "invalid"}
    ):
        _record(
            message,
            token,
            state=MessageState.FAILED,
            code=550,
            detail="Rejected by the ESP.",
            bounce=BounceKind.HARD,
        )
        return "failed"
    _after_send(message)
    if pending is None:
        _record_sent(message, token, now, numbers.dedupe_hours)
    else:
        # Recorded with the next message's 'sending' mark (one statement), or at the batch's end.
        pending.message, pending.at = message, now
    message.error_code = None
    return "sent"


def _record(
    message: Message, token, *, state: str, code: int, detail: str, bounce: str = ""
) -> None:
    now = clock.now()
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
        _record(
            message,
            token,
            state=MessageState.FAILED,
            code=code,
            detail=detail,
            bounce=BounceKind.SOFT,
        )
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
    from ..models import BillingWindow

    with transaction.atomic():
        window = BillingWindow.objects.filter(shop_id=message.shop_id, email=message.email).first()
        billable = window is None or window.started_at <= at - timedelta(hours=dedupe_hours)
        if window is None:
            BillingWindow.objects.create(
                shop_id=message.shop_id, email=message.email, started_at=at
            )
        elif billable:
            BillingWindow.objects.filter(pk=window.pk).update(started_at=at)
        Message.objects.filter(pk=message.pk, claim_token=token).update(
            state=MessageState.SENT,
            sent_at=at,
            attempts=F("attempts") + 1,
            error_code=None,
            error_detail="",
            billable=billable,
        )


# --- 4. recover, schedule, finish ------------------------------------------------------------


def claims_recover(*, now: datetime | None = None) -> tuple[int, int]:
    """Rows of dead workers (claimed longer ago than the stale age): ``claimed`` → queued again,
    ``sending`` → ``unknown`` (never resent). Returns (requeued, unknown)."""
    now = now or clock.now()
    stale = now - timedelta(seconds=rules.claim_stale_seconds())
    requeued = 0
    for row in Message.objects.filter(state=MessageState.CLAIMED, claimed_at__lt=stale).values(
        "pk", "shop_id", "claimed_at"
    )[:10000]:
        if Message.objects.filter(pk=row["pk"], state=MessageState.CLAIMED).update(
            state=MessageState.QUEUED, claim_token=None, claimed_at=None, due_at=now
        ):
            _quota_give_back(row["shop_id"], row["claimed_at"] or now)
            requeued += 1
    unknown = Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=stale).update(
        state=MessageState.UNKNOWN,
        error_code=E_UNKNOWN,
        error_detail="The worker stopped while handing this message over; it may have been "
        "delivered, so it is not sent again.",
        attempts=F("attempts") + 1,
    )
    if requeued or unknown:
        log.warning("dispatch recovery: %s claims requeued, %s marked unknown", requeued, unknown)
    return requeued, unknown


def campaigns_due(*, now: datetime | None = None) -> list[int]:
    """Campaigns with messages due now (the beat sends them a batch task each)."""
    now = now or clock.now()
    return list(
        Campaign.objects.filter(
            status=CampaignStatus.SENDING,
            messages__state=MessageState.QUEUED,
            messages__due_at__lte=now,
        )
        .distinct()
        .values_list("pk", flat=True)[:500]
    )


def _finish_if_done(campaign_id: int) -> bool:
    open_states = [
        MessageState.HELD,
        MessageState.QUEUED,
        MessageState.CLAIMED,
        MessageState.SENDING,
    ]
    if Message.objects.filter(campaign_id=campaign_id, state__in=open_states).exists():
        return False
    return bool(
        Campaign.objects.filter(
            pk=campaign_id, status=CampaignStatus.SENDING, materialized_at__isnull=False
        ).update(status=CampaignStatus.SENT, finished_at=clock.now())
    )


def ab_decide(*, campaign_id: int, now: datetime | None = None) -> str:
    """SPEC M-6: after the wait, the variant with the better open (or click) rate among its sent
    messages goes to the held rest (a tie goes to A). Returns the winner ('' if not yet due)."""
    now = now or clock.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if (
            not campaign.ab_enabled
            or campaign.ab_winner
            or campaign.ab_decide_at is None
            or campaign.ab_decide_at > now
        ):
            return campaign.ab_winner if campaign.ab_enabled else ""
        field_name = "opened_at" if campaign.ab_metric == "open" else "clicked_at"
        scores = {}
        for v in ("A", "B"):
            sent = Message.objects.filter(campaign=campaign, variant=v, sent_at__isnull=False)
            n = sent.count()
            hits = sent.filter(**{f"{field_name}__isnull": False}).count()
            scores[v] = (hits / n) if n else 0.0
        winner = "B" if scores["B"] > scores["A"] else "A"
        Campaign.objects.filter(pk=campaign.pk).update(ab_winner=winner)
        Message.objects.filter(campaign=campaign, state=MessageState.HELD).update(
            state=MessageState.QUEUED, variant=winner, due_at=now
        )
    log.info("campaign %s: A/B winner %s (%s)", campaign_id, winner, scores)
    return winner


def ab_due(*, now: datetime | None = None) -> list[int]:
    now = now or clock.now()
    return list(
        Campaign.objects.filter(
            status=CampaignStatus.SENDING, ab_enabled=True, ab_winner="", ab_decide_at__lte=now
        ).values_list("pk", flat=True)
    )
