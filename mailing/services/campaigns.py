"""Campaign writes (SPEC M-5 to M-9): compose, lint, checklist, confirm, pause/resume/cancel,
test send. Sending itself is ``mailing.services.dispatch``."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from html.parser import HTMLParser

from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.errors import DomainError, InvalidTransition
from core.money import Money, exponent

from .. import rules
from ..models import (
    AbMetric,
    Campaign,
    CampaignContent,
    CampaignStatus,
    Message,
    MessageState,
    QuotaDay,
    Statement,
)
from . import dispatch

LANGUAGES = ("en", "es", "fr", "ru", "pt", "de", "it", "nl", "pl", "ko", "ja", "zh")


# --- compose ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentInput:
    language: str
    subject: str
    body: str
    preheader: str = ""
    variant: str = "A"


def _check_content(c: ContentInput) -> None:
    dispatch.check_header_value(c.subject, _("subject"))
    dispatch.check_header_value(c.preheader, _("preview text"))
    if not c.subject.strip():
        raise DomainError(_("Every language needs a subject."), code="subject_missing")
    if len(c.subject) > 200 or len(c.preheader) > 200:
        raise DomainError(_("A subject is at most 200 characters."), code="subject_too_long")
    if c.variant not in ("A", "B"):
        raise DomainError(_("A variant is A or B."), code="invalid_variant")
    if c.language not in LANGUAGES:
        raise DomainError(
            _("Unknown language %(lang)s.") % {"lang": c.language}, code="invalid_language"
        )
    from mailing.rendering import validate_content

    problems = validate_content(c.subject, c.preheader, c.body)
    if problems:
        raise DomainError(" ".join(str(p) for p in problems), code="template_rejected")


@transaction.atomic
def campaign_create(
    *,
    shop,
    name: str,
    contents: list[ContentInput],
    segment=None,
    template_key: str = "",
    default_language: str = "en",
    created_by=None,
) -> Campaign:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DomainError(_("A campaign needs a name of 1 to 120 characters."), code="invalid_name")
    if not contents:
        raise DomainError(_("A campaign needs content."), code="no_content")
    for c in contents:
        _check_content(c)
    if default_language not in {c.language for c in contents}:
        raise DomainError(
            _("The default language needs its own content."), code="default_language_missing"
        )
    campaign = Campaign.objects.create(
        shop=shop,
        name=name,
        segment=segment,
        template_key=template_key,
        default_language=default_language,
        created_by=created_by,
    )
    CampaignContent.objects.bulk_create(
        CampaignContent(
            campaign=campaign,
            variant=c.variant,
            language=c.language,
            subject=c.subject,
            preheader=c.preheader,
            body=c.body,
        )
        for c in contents
    )
    return campaign


def _draft(campaign: Campaign) -> Campaign:
    if campaign.status != CampaignStatus.DRAFT:
        raise InvalidTransition(_("Only a draft can be changed."))
    return campaign


@transaction.atomic
def campaign_content_set(*, campaign: Campaign, content: ContentInput) -> CampaignContent:
    _draft(campaign)
    _check_content(content)
    row, _created = CampaignContent.objects.update_or_create(
        campaign=campaign,
        variant=content.variant,
        language=content.language,
        defaults={"subject": content.subject, "preheader": content.preheader, "body": content.body},
    )
    return row


def campaign_schedule(
    *, campaign: Campaign, send_on: date | None, send_at_local: time | None
) -> Campaign:
    """SPEC M-5: send on this date at this local time in each recipient's site zone."""
    _draft(campaign)
    if (send_on is None) != (send_at_local is None):
        raise DomainError(_("Choose both a date and a local time, or neither."), code="schedule")
    campaign.send_on, campaign.send_at_local = send_on, send_at_local
    Campaign.objects.filter(pk=campaign.pk).update(send_on=send_on, send_at_local=send_at_local)
    return campaign


def campaign_ab_set(
    *,
    campaign: Campaign,
    enabled: bool,
    test_percent: int = 20,
    metric: str = "open",
    wait_hours: int = 4,
) -> Campaign:
    """SPEC M-6: A/B test on a split; the winner by open or click rate after N hours."""
    _draft(campaign)
    if enabled:
        if not 2 <= int(test_percent) <= 50:
            raise DomainError(_("The test share is 2% to 50%."), code="ab_share")
        if metric not in AbMetric.values:
            raise DomainError(_("Pick the winner by opens or clicks."), code="ab_metric")
        if not 1 <= int(wait_hours) <= 72:
            raise DomainError(_("Decide after 1 to 72 hours."), code="ab_wait")
        if not campaign.contents.filter(variant="B").exists():
            raise DomainError(_("An A/B test needs variant B's content."), code="ab_no_b")
    fields = {
        "ab_enabled": bool(enabled),
        "ab_test_percent": int(test_percent),
        "ab_metric": metric,
        "ab_wait_hours": int(wait_hours),
    }
    Campaign.objects.filter(pk=campaign.pk).update(**fields)
    for k, v in fields.items():
        setattr(campaign, k, v)
    return campaign


# --- lint (SPEC M-7) --------------------------------------------------------------------------


@dataclass(frozen=True)
class LintResult:
    code: str
    passed: bool
    blocking: bool
    message: str
    fix: str = ""


class _Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images = 0
        self.ctas = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("width") != "1":
            self.images += 1
        if tag == "a" and "sc-button" in (a.get("class") or "").split():
            self.ctas += 1

    def handle_data(self, data):
        self.text.append(data)


VALUE_WORDS = re.compile(
    r"\d|%|\$|€|£|¥|free|off|save|sale|deal|new|gift|coupon|discount|only|today|last|"
    r"gratis|oferta|nuevo|promo|soldes|offert|nouveau|скидк|бесплат|нов|grátis|novo|desconto",
    re.I,
)


@dataclass(frozen=True)
class LintNumbers:
    """SPEC M-7's registry numbers, read once per check (not once per language)."""

    value_chars: int
    max_ctas: int
    image_share_max: Decimal
    image_weight: int

    @classmethod
    def read(cls) -> LintNumbers:
        return cls(
            rules.lint_value_chars(),
            rules.lint_max_ctas(),
            rules.lint_image_share_max(),
            rules.lint_image_text_equivalent(),
        )


def lint(
    *, campaign: Campaign, content: CampaignContent, brand=None, numbers: LintNumbers | None = None
) -> list[LintResult]:
    """SPEC M-7 on the message: value proposition in the first 50 characters, at most 2 CTA
    buttons, image share under 60%, and the mandatory footer (the only blocking check)."""
    n = numbers or LintNumbers.read()
    results = []
    head = (content.subject + " " + content.preheader)[: n.value_chars]
    ok = bool(VALUE_WORDS.search(head))
    results.append(
        LintResult(
            "value",
            ok,
            False,
            _("Value proposition in the first %(n)s characters") % {"n": n.value_chars},
            ""
            if ok
            else _("Start the subject with the offer: a discount, a price, 'new' or 'free'."),
        )
    )
    counter = _Counter()
    counter.feed(content.body)
    results.append(
        LintResult(
            "ctas",
            counter.ctas <= n.max_ctas,
            False,
            _("%(n)s call-to-action buttons (at most %(max)s)")
            % {"n": counter.ctas, "max": n.max_ctas},
            ""
            if counter.ctas <= n.max_ctas
            else _("Keep the one or two buttons that matter most."),
        )
    )
    share = rules.image_share(
        images=counter.images,
        text_chars=len("".join(counter.text).strip()),
        weight=n.image_weight,
    )
    ok = share < n.image_share_max
    results.append(
        LintResult(
            "images",
            ok,
            False,
            _("Image share %(share)s%% (under %(max)s%%)")
            % {"share": share, "max": n.image_share_max},
            "" if ok else _("Add text or remove an image: image-heavy mail lands in spam."),
        )
    )
    footer_ok, footer_msg = _footer_check(campaign, content, brand)
    results.append(
        LintResult(
            "footer",
            footer_ok,
            True,
            _("Footer: physical address, customer-service phone and one-click unsubscribe"),
            footer_msg,
        )
    )
    return results


def _footer_check(campaign: Campaign, content: CampaignContent, brand=None) -> tuple[bool, str]:
    probe = Message(
        campaign=campaign,
        shop=campaign.shop,
        email="preview@example.com",
        language=content.language,
        variant=content.variant,
    )
    try:
        sender = dispatch.Sender(
            name=campaign.shop.name, address="preview@example.com", domain="example.com"
        )
        dispatch.build_message(
            campaign, probe, sender, content, brand=brand or dispatch.brand_for(campaign.shop)
        )
    except DomainError as exc:
        if exc.code == "footer_missing":
            return False, _(
                "Add your physical address and customer-service phone in the brand settings."
            )
        return False, exc.message
    return True, ""


def lint_blocking(*, campaign: Campaign) -> list[LintResult]:
    out = []
    brand = dispatch.brand_for(campaign.shop)
    numbers = LintNumbers.read()
    for content in campaign.contents.all():
        out += [
            r
            for r in lint(campaign=campaign, content=content, brand=brand, numbers=numbers)
            if r.blocking and not r.passed
        ]
    return out


# --- pre-send checklist (SPEC M-8, M-9) ---------------------------------------------------------


@dataclass(frozen=True)
class Checklist:
    recipients: int
    today_room: int
    daily_quota: int
    quota_days: int
    free_left: int
    charged: int
    cost: Money
    balance: Money
    lint: list[LintResult]
    domain_ok: bool
    domain_message: str
    # SPEC M-2 (b): the brand profile's logo (the footer's parts are the lint's "footer").
    brand_problems: tuple[str, ...] = ()

    @property
    def brand_ok(self) -> bool:
        return not self.brand_problems

    @property
    def can_send(self) -> bool:
        return (
            self.domain_ok
            and self.brand_ok
            and self.recipients > 0
            and not any(r.blocking and not r.passed for r in self.lint)
        )


def month_start(at: datetime) -> date:
    return clock.natural_day(at).replace(day=1)


def billable_this_month(shop, *, at: datetime) -> int:
    from .billing import billable_q

    start = clock.day_start(month_start(at))
    return Message.objects.filter(billable_q(start), shop=shop).count()


def checklist(*, campaign: Campaign, at: datetime | None = None) -> Checklist:
    """What the seller sees before confirming: recipients after suppression, the days the quota
    needs, and what it costs beyond the month's free messages (an upper bound: the 24-hour
    dedupe and hard bounces can only lower it)."""
    from mailing import segments
    from shops.selectors import balance_for_shop

    at = at or clock.now()
    shop = campaign.shop
    recipients = segments.count(campaign.segment, shop=shop, at=at)
    quota = dispatch.quota_for(shop, now=at)
    used = (
        QuotaDay.objects.filter(shop=shop, day=clock.natural_day(at))
        .values_list("used", flat=True)
        .first()
        or 0
    )
    room = max(0, quota - used)
    rest = max(0, recipients - room)
    days = (1 if recipients and room else 0) + math.ceil(rest / quota) if recipients else 0
    free_left = max(0, rules.free_per_month() - billable_this_month(shop, at=at))
    charged = max(0, recipients - free_left)
    cost = Money(rules.charge_minor(count=charged, exponent=exponent(shop.currency)), shop.currency)
    try:
        dispatch.sender_for(shop)
        domain_ok, domain_message = True, ""
    except DomainError as exc:
        domain_ok, domain_message = False, exc.message
    results = []
    brand = dispatch.brand_for(shop)
    numbers = LintNumbers.read()
    for content in campaign.contents.all():
        results += lint(campaign=campaign, content=content, brand=brand, numbers=numbers)
    return Checklist(
        recipients=recipients,
        today_room=room,
        daily_quota=quota,
        quota_days=days,
        free_left=free_left,
        charged=charged,
        cost=cost,
        balance=balance_for_shop(shop=shop),
        lint=results,
        domain_ok=domain_ok,
        domain_message=domain_message,
        brand_problems=tuple(_brand_problems(shop, brand)),
    )


def _brand_problems(shop, brand) -> list[str]:
    """SPEC M-2 (b) beyond the footer (which the M-7 lint checks): the brand logo."""
    from mailing.selectors import brand_problems

    return [str(p) for p in brand_problems(shop=shop, brand=brand, footer=False)]


# --- confirm, pause, resume, cancel ------------------------------------------------------------


def campaign_confirm(*, campaign: Campaign, at: datetime | None = None) -> Campaign:
    """The seller confirmed the checklist: recipients are streamed into messages and sent."""
    from mailing.tasks import campaign_materialize_task

    at = at or clock.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _draft(locked)
        blocking = lint_blocking(campaign=locked)
        if blocking:
            # SPEC M-7: a message without the footer is blocked, not sent.
            raise DomainError(" ".join(r.fix or r.message for r in blocking), code="lint_blocked")
        missing = _brand_problems(locked.shop, dispatch.brand_for(locked.shop))
        if missing:
            # SPEC M-2 (b): the brand logo is part of the set-up required before sending.
            raise DomainError(
                " ".join(
                    [
                        *missing,
                        _(
                            "Upload your brand logo (PNG or JPEG) in Email marketing → Set-up "
                            "→ Brand profile, then confirm again."
                        ),
                    ]
                ),
                code="brand_incomplete",
            )
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.SCHEDULED, confirmed_at=at
        )
        transaction.on_commit(lambda: campaign_materialize_task.delay(campaign.pk))
    campaign.refresh_from_db()
    return campaign


def campaign_pause(*, campaign: Campaign) -> Campaign:
    n = Campaign.objects.filter(
        pk=campaign.pk, status__in=[CampaignStatus.SENDING, CampaignStatus.SCHEDULED]
    ).update(status=CampaignStatus.PAUSED)
    if not n:
        raise InvalidTransition(_("Only a campaign that is sending can be paused."))
    campaign.refresh_from_db()
    return campaign


def campaign_resume(*, campaign: Campaign) -> Campaign:
    from mailing.tasks import campaign_materialize_task, dispatch_batch_task

    target = CampaignStatus.SENDING if campaign.materialized_at else CampaignStatus.SCHEDULED
    n = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PAUSED).update(status=target)
    if not n:
        raise InvalidTransition(_("Only a paused campaign can be resumed."))
    task = dispatch_batch_task if target == CampaignStatus.SENDING else campaign_materialize_task
    transaction.on_commit(lambda: task.delay(campaign.pk))
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Messages not yet handed over are cancelled; those already sent stay sent."""
    n = Campaign.objects.filter(
        pk=campaign.pk,
        status__in=[
            CampaignStatus.DRAFT,
            CampaignStatus.SCHEDULED,
            CampaignStatus.SENDING,
            CampaignStatus.PAUSED,
        ],
    ).update(status=CampaignStatus.CANCELLED, finished_at=clock.now())
    if not n:
        raise InvalidTransition(_("This campaign has already finished."))
    Message.objects.filter(
        campaign=campaign, state__in=[MessageState.QUEUED, MessageState.HELD]
    ).update(state=MessageState.CANCELLED)
    campaign.refresh_from_db()
    return campaign


def campaign_test_send(*, campaign: Campaign, to: str, language: str, variant: str = "A") -> None:
    """Send the campaign's message in ``language`` to a staff address, marked as a test (no
    message row, no quota, no billing)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(to)
    except ValidationError:
        raise DomainError(_("Enter a valid email address."), code="invalid_email") from None
    contents = dispatch._contents(campaign)
    content = dispatch.pick_content(
        contents, variant=variant, language=language, default=campaign.default_language
    )
    if content is None:
        raise DomainError(_("The campaign has no content."), code="no_content")
    sender = dispatch.sender_for(campaign.shop)
    probe = Message(
        campaign=campaign, shop=campaign.shop, email=to, language=language, variant=variant
    )
    built = dispatch.build_message(campaign, probe, sender, content, subject_prefix="[TEST] ")
    conn = dispatch.connection()
    conn.send_messages([built.email])


def statement_for(shop, month: date) -> Statement | None:
    return Statement.objects.filter(shop=shop, month=month).first()


def campaign_create_from_template(
    *, shop, name: str, template, segment=None, created_by=None
) -> Campaign:
    """SPEC M-2 c / issue 4: a campaign composed from one of the shop's templates, with a
    content per language variant of it (the seller edits each afterwards)."""
    if template.shop_id != shop.pk or (segment is not None and segment.shop_id != shop.pk):
        raise DomainError(_("Unknown template or segment."), code="not_found")
    contents = [
        ContentInput(language=v.language, subject=v.subject, body=v.body, preheader=v.preheader)
        for v in template.variants.all()
        if v.language in LANGUAGES
    ]
    languages = {c.language for c in contents}
    return campaign_create(
        shop=shop,
        name=name,
        contents=contents,
        segment=segment,
        template_key=template.builtin_key,
        default_language="en" if "en" in languages else (sorted(languages) or ["en"])[0],
        created_by=created_by,
    )
