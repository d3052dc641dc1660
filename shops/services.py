import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import translation

from core import clock
from core.errors import DomainError
from core.money import Money, exponent

from .models import (
    BALANCE_KEY_MAX,
    BALANCE_REASON_MAX,
    NOTIFICATION_LINK_MAX,
    NOTIFICATION_TITLE_MAX,
    BalanceEntry,
    Category,
    EntryKind,
    LogisticsSetting,
    Membership,
    Notification,
    NotificationKind,
    NotificationPreference,
    Product,
    Region,
    ReviewStatus,
    Shop,
    ShopBalance,
    Sku,
    Violation,
)
from .notices import UNWORDABLE, Reason, words

# The currency of a shop created without one (the marketplace's default site currency).
DEFAULT_SHOP_CURRENCY = "USD"


class CurrencyChange(DomainError):
    code = "currency_change"


def shop_upsert(
    *,
    external_id: str,
    name: str,
    opened_at: datetime,
    main_category: str,
    registration_region: str = Region.MAINLAND_CN,
    enterprise_certified: bool = False,
    store_level: int = 1,
    store_rating: Decimal | str = "0",
    dsr_item_as_described: Decimal | str = "0",
    dsr_communication: Decimal | str = "0",
    dsr_shipping: Decimal | str = "0",
    currency: str | None = None,
) -> Shop:
    """Create or update a shop from the marketplace's facts.

    ``currency``: None leaves a known shop's currency as it is (a new shop gets
    ``DEFAULT_SHOP_CURRENCY``). A shop's balance and orders are kept in its currency, so once it
    has either, another currency is refused (``currency_change``) and nothing is written.
    """
    if main_category not in Category.values:
        raise DomainError(f"Unknown category {main_category!r}.", code="invalid_category")
    if registration_region not in Region.values:
        raise DomainError(f"Unknown region {registration_region!r}.", code="invalid_region")
    if not 1 <= int(store_level) <= 5:
        raise DomainError("Store level must be 1 to 5.", code="invalid_store_level")
    if currency is not None:
        try:
            exponent(currency)
        except ValueError as exc:
            raise DomainError(str(exc), code="invalid_currency") from None
    scores = {}
    for field, value in (
        ("store_rating", store_rating),
        ("dsr_item_as_described", dsr_item_as_described),
        ("dsr_communication", dsr_communication),
        ("dsr_shipping", dsr_shipping),
    ):
        d = Decimal(str(value))
        if not Decimal(0) <= d <= Decimal(5):
            raise DomainError(f"{field} must be between 0 and 5.", code="invalid_score")
        scores[field] = d.quantize(Decimal("0.01"))
    fields = {
        "name": name,
        "opened_at": opened_at,
        "main_category": main_category,
        "registration_region": registration_region,
        "enterprise_certified": enterprise_certified,
        "store_level": int(store_level),
        **scores,
    }
    with transaction.atomic():
        if currency is not None:
            # An order or ledger entry being written for the shop holds a key-share lock on
            # this row (its foreign key) until it commits: the lock waits for it, then sees it.
            known = (
                Shop.objects.select_for_update()
                .filter(external_id=external_id)
                .values_list("pk", "currency")
                .first()
            )
            if known is not None and known[1] != currency and _money_in_currency(known[0]):
                raise CurrencyChange(
                    f"Shop {external_id!r} has orders or balance entries in {known[1]}: its "
                    f"currency cannot change to {currency}.",
                )
            fields["currency"] = currency
        shop, _ = Shop.objects.update_or_create(
            external_id=external_id,
            defaults=fields,
            create_defaults={"currency": DEFAULT_SHOP_CURRENCY, **fields},
        )
    return shop


def _money_in_currency(shop_pk: int) -> bool:
    """Whether anything is kept in the shop's currency: ledger entries (SPEC §0 shop balance,
    keyed by shop and currency) or orders. Orders are a floor above; they are asked through
    their foreign key to the shop (``Shop.orders``), without importing them."""
    return (
        BalanceEntry.objects.filter(shop_id=shop_pk).exists()
        or Shop.objects.filter(pk=shop_pk, orders__isnull=False).exists()
    )


def membership_grant(*, user, shop: Shop, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, shop=shop, defaults={"role": role}
    )
    return membership


# A product picture: an absolute http(s) URL with a host, or a local /static/ path (the demo's
# pictures); no spaces, quotes, angle brackets or backslashes (nothing to break out of an
# attribute with). The event schema (orders.ingest.schemas) publishes the same pattern.
IMAGE_URL_PATTERN = (
    r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s\"'<>\\]*)?"
    r"|/static/[^\s\"'<>\\]+)$"
)
IMAGE_URL_MAX_LENGTH = 500
_IMAGE_URL = re.compile(IMAGE_URL_PATTERN)


@transaction.atomic
def product_upsert(
    *,
    shop: Shop,
    external_id: str,
    title: str,
    category: str,
    review_status: str = ReviewStatus.APPROVED,
    skus: list[dict],
    image_url: str | None = None,
) -> Product:
    """Create or update a product with its SKUs.

    ``skus``: dicts of code, price_minor, stock and optionally name, lowest_price_30d_minor.
    ``image_url``: None leaves the stored picture as it is, "" removes it.
    """
    if category not in Category.values:
        raise DomainError(f"Unknown category {category!r}.", code="invalid_category")
    if review_status not in ReviewStatus.values:
        raise DomainError(f"Unknown review status {review_status!r}.", code="invalid_review_status")
    if not skus:
        raise DomainError("A product needs at least one SKU.", code="no_skus")
    for s in skus:
        if int(s["price_minor"]) < 0 or int(s.get("stock", 0)) < 0:
            raise DomainError("SKU price and stock cannot be negative.", code="invalid_amount")
    if image_url and (len(image_url) > IMAGE_URL_MAX_LENGTH or not _IMAGE_URL.match(image_url)):
        raise DomainError(
            "The image URL must be an http(s) URL or a /static/ path of at most "
            f"{IMAGE_URL_MAX_LENGTH} characters.",
            code="invalid_image_url",
        )
    defaults = {"title": title, "category": category, "review_status": review_status}
    if image_url is not None:
        defaults["image_url"] = image_url
    product, _ = Product.objects.update_or_create(
        shop=shop, external_id=external_id, defaults=defaults
    )
    for s in skus:
        Sku.objects.update_or_create(
            shop=shop,
            code=s["code"],
            defaults={
                "product": product,
                "name": s.get("name", ""),
                "currency": shop.currency,
                "price_minor": int(s["price_minor"]),
                "stock": int(s.get("stock", 0)),
                "lowest_price_30d_minor": s.get("lowest_price_30d_minor"),
            },
        )
    return product


def logistics_set(*, shop: Shop, carrier: str, enabled: bool, certified: bool) -> LogisticsSetting:
    setting, _ = LogisticsSetting.objects.update_or_create(
        shop=shop, carrier=carrier, defaults={"enabled": enabled, "certified": certified}
    )
    return setting


def violation_record(
    *,
    shop: Shop,
    external_id: str,
    kind: str,
    serious: bool,
    occurred_at: datetime,
    description: str = "",
) -> Violation:
    violation, _ = Violation.objects.get_or_create(
        external_id=external_id,
        defaults={
            "shop": shop,
            "kind": kind,
            "serious": serious,
            "occurred_at": occurred_at,
            "description": description,
        },
    )
    return violation


# --- shop balance ledger (SPEC §0 "Shop balance") -------------------------------------------------


class InsufficientBalance(DomainError):
    code = "insufficient_balance"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


_REASON_MAX = BALANCE_REASON_MAX
_KEY_MAX = BALANCE_KEY_MAX


def balance_credit(
    *, shop: Shop, amount: Money, reason: str | Reason, idempotency_key: str
) -> BalanceEntry:
    """Add ``amount`` to the shop's balance (e.g. a marketplace settlement payout).

    Idempotent: the same key returns the first entry; the same key for another shop, kind or
    amount is refused with ``idempotency_key_reused``. ``reason``: text as given, or a
    ``shops.notices.Reason`` (stored with its facts, worded in the reader's language).
    """
    return _post(
        shop=shop,
        kind=EntryKind.CREDIT,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
    )


def balance_debit(
    *, shop: Shop, amount: Money, reason: str | Reason, idempotency_key: str
) -> BalanceEntry:
    """Take ``amount`` from the shop's balance: coin fund top-ups (C-5), mail beyond the free quota
    (M-9), commissions (A-7). A debit the balance cannot cover is refused (``insufficient_balance``)
    and writes nothing; the balance never goes below zero (and the database refuses it too).
    Idempotent like ``balance_credit``."""
    return _post(
        shop=shop,
        kind=EntryKind.DEBIT,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
    )


def _validate(*, shop: Shop, amount: Money, reason: str, idempotency_key: str) -> str:
    if not isinstance(amount, Money):
        # Floats, Decimals and bare ints are refused: the ledger takes Money only (DESIGN §3).
        raise DomainError(
            f"A balance amount must be Money, not {type(amount).__name__}.", code="invalid_amount"
        )
    if amount.amount <= 0:
        raise DomainError("A balance amount must be more than zero.", code="invalid_amount")
    if amount.currency != shop.currency:
        raise DomainError(
            f"The amount is in {amount.currency}; the shop's balance is in {shop.currency}.",
            code="currency_mismatch",
        )
    reason = (reason or "").strip()
    if not reason or len(reason) > _REASON_MAX:
        raise DomainError(
            f"A balance entry needs a reason of 1 to {_REASON_MAX} characters.",
            code="invalid_reason",
        )
    if not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= _KEY_MAX:
        raise DomainError(
            f"An idempotency key is a string of 1 to {_KEY_MAX} characters.",
            code="invalid_idempotency_key",
        )
    return reason


def _replay(entry: BalanceEntry, *, shop: Shop, kind: str, amount: Money) -> BalanceEntry:
    if (entry.shop_id, entry.kind, entry.amount) != (shop.pk, kind, amount):
        raise IdempotencyKeyReused(
            f"Idempotency key {entry.idempotency_key!r} was already used for another balance "
            "entry (a different shop, kind or amount)."
        )
    return entry


def _reason_parts(reason: str | Reason) -> tuple[str, str, dict]:
    """(English text, message key, facts) of a ledger reason."""
    if isinstance(reason, Reason):
        try:
            return reason.english(), reason.key, dict(reason.params)
        except UNWORDABLE as exc:
            raise DomainError(
                f"Reason {reason.key!r} cannot be worded from its facts ({exc!r}).",
                code="invalid_reason",
            ) from exc
    return reason, "", {}


@transaction.atomic
def _post(
    *, shop: Shop, kind: str, amount: Money, reason: str | Reason, idempotency_key: str
) -> BalanceEntry:
    reason, reason_key, reason_params = _reason_parts(reason)
    reason = _validate(shop=shop, amount=amount, reason=reason, idempotency_key=idempotency_key)
    first = BalanceEntry.objects.filter(idempotency_key=idempotency_key).first()
    if first is not None:
        return _replay(first, shop=shop, kind=kind, amount=amount)

    balance, _ = ShopBalance.objects.get_or_create(shop=shop, currency=amount.currency)
    # One lock per shop balance serialises its movements (DESIGN §3); a caller that needs several
    # shops' balances takes them in primary-key order.
    balance = ShopBalance.objects.select_for_update().get(pk=balance.pk)
    # A concurrent call with the same key may have committed while this one waited for the lock.
    first = BalanceEntry.objects.filter(idempotency_key=idempotency_key).first()
    if first is not None:
        return _replay(first, shop=shop, kind=kind, amount=amount)

    if kind == EntryKind.DEBIT:
        if amount.amount > balance.balance_minor:
            raise InsufficientBalance(
                f"The shop's balance {balance.balance.format()} cannot cover {amount.format()}."
            )
        after = balance.balance_minor - amount.amount
        delta = -amount.amount
    else:
        after = balance.balance_minor + amount.amount
        delta = amount.amount
    try:
        with transaction.atomic():
            entry = BalanceEntry.objects.create(
                balance=balance,
                shop=shop,
                kind=kind,
                amount_minor=amount.amount,
                currency=amount.currency,
                balance_after_minor=after,
                reason=reason,
                reason_key=reason_key,
                reason_params=reason_params,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # The same key, committed meanwhile for another shop's balance (another lock).
        first = BalanceEntry.objects.filter(idempotency_key=idempotency_key).first()
        if first is None:
            raise
        return _replay(first, shop=shop, kind=kind, amount=amount)
    ShopBalance.objects.filter(pk=balance.pk).update(
        balance_minor=F("balance_minor") + delta, updated_at=clock.now()
    )
    return entry


@dataclass(frozen=True)
class DebitBatch:
    """What ``balance_debit_batch`` did: the keys it debited now, those already in the ledger
    (replays, not debited again), and those the balance could not cover (nothing written)."""

    debited: list[str]
    replayed: list[str]
    refused: list[str]


def balance_debit_batch(
    *, shop: Shop, currency: str, debits: Sequence[tuple[str, int, str | Reason]]
) -> DebitBatch:
    """Many ``balance_debit`` calls of one shop at once, set-based (PostgreSQL): ``debits`` are
    (idempotency key, amount in minor units, reason: text or ``Reason``), taken **in the given
    order**, each the running balance covers is debited and the others are refused (a later,
    smaller one may still fit) — exactly what the same calls one after the other would leave,
    with the same entries (``balance_after`` chained) and the same refusals: bad amounts,
    reasons or keys refuse the whole batch before anything is written; a key already used for
    another shop, kind or amount raises ``idempotency_key_reused``. One lock on the balance,
    one ``INSERT … SELECT FROM unnest`` of the entries, one ``UPDATE`` of the cached balance."""
    if currency != shop.currency:
        raise DomainError(
            f"The amount is in {currency}; the shop's balance is in {shop.currency}.",
            code="currency_mismatch",
        )
    rows = []
    for key, amount_minor, given in debits:
        reason, reason_key, facts = _reason_parts(given)
        reason = _validate(
            shop=shop, amount=Money(amount_minor, currency), reason=reason, idempotency_key=key
        )
        rows.append((key, amount_minor, reason, reason_key, json.dumps(facts)))
    if len({r[0] for r in rows}) != len(rows):
        raise DomainError("An idempotency key appears twice in one batch.", code="invalid_batch")
    if not rows:
        return DebitBatch([], [], [])
    with transaction.atomic(), connection.cursor() as cur:
        balance = (
            ShopBalance.objects.select_for_update()
            .filter(shop=shop, currency=currency)
            .values_list("pk", "balance_minor")
            .first()
        )
        cur.execute(
            "SELECT idempotency_key, shop_id, kind, amount_minor, currency FROM shops_balanceentry"
            " WHERE idempotency_key = ANY(%s)",
            [[r[0] for r in rows]],
        )
        seen = {k: (s, kind, a, c) for k, s, kind, a, c in cur.fetchall()}
        left = balance[1] if balance else 0
        out = DebitBatch([], [], [])
        amounts, afters, reasons, reason_keys, reason_params = [], [], [], [], []
        for key, amount_minor, reason, reason_key, params_json in rows:
            if key in seen:
                if seen[key] != (shop.pk, EntryKind.DEBIT, amount_minor, currency):
                    raise IdempotencyKeyReused(
                        f"Idempotency key {key!r} was already used for another balance entry "
                        "(a different shop, kind or amount)."
                    )
                out.replayed.append(key)
            elif amount_minor > left:
                out.refused.append(key)
            else:
                left -= amount_minor
                out.debited.append(key)
                amounts.append(amount_minor)
                afters.append(left)
                reasons.append(reason)
                reason_keys.append(reason_key)
                reason_params.append(params_json)
        if out.debited:
            assert balance is not None  # nothing is covered by a balance that does not exist
            now = clock.now()
            cur.execute(
                "INSERT INTO shops_balanceentry (balance_id, shop_id, kind, amount_minor,"
                " currency, balance_after_minor, reason, reason_key, reason_params,"
                " idempotency_key, created_at)"
                " SELECT %s, %s, %s, u.amount, %s, u.after, u.reason, u.rkey, u.rparams::jsonb,"
                " u.key, %s"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[],"
                " %s::text[])"
                " WITH ORDINALITY AS u(amount, after, reason, rkey, rparams, key, n) ORDER BY u.n",
                [balance[0], shop.pk, EntryKind.DEBIT, currency, now,
                 amounts, afters, reasons, reason_keys, reason_params, out.debited],
            )  # fmt: skip
            cur.execute(
                "UPDATE shops_shopbalance SET balance_minor = balance_minor - %s, updated_at = %s"
                " WHERE id = %s",
                [sum(amounts), now, balance[0]],
            )
    return out


# --- staff notifications (DESIGN §2) ---------------------------------------------------------

log = logging.getLogger(__name__)

_TITLE_MAX = NOTIFICATION_TITLE_MAX
_LINK_MAX = NOTIFICATION_LINK_MAX


def notification_channels(*, users, kind: str) -> dict[int, tuple[bool, bool]]:
    """Each user's (in-app, email) choice for ``kind``; both on when never set. One query."""
    chosen = {
        p.user_id: (p.in_app, p.email)
        for p in NotificationPreference.objects.filter(user__in=users, kind=kind)
    }
    return {u.pk: chosen.get(u.pk, (True, True)) for u in users}


@transaction.atomic
def notify(
    *,
    shop: Shop,
    kind: str,
    title: str = "",
    body: str = "",
    link: str = "",
    roles=None,
    users=None,
    message: str = "",
    params: dict | None = None,
) -> list[Notification]:
    """Tell the shop's staff: in-app rows now, emails once the transaction commits.

    ``message`` (``"<app>.<name>"``) and its ``params`` (plain facts): the notification is
    worded when shown, in the reader's language (``shops.notices``); ``title`` and ``body`` are
    then its English wording, stored (and mailed). Without ``message``, ``title`` and ``body``
    are the text as given.

    Recipients are the shop's members — all of them, those with one of ``roles``, or those of
    ``users`` who are members (someone outside the shop is never told about it). Each member's
    preferences for ``kind`` decide the channels. ``link`` is a path inside the seller center.
    Returns the in-app rows written.
    """
    if kind not in NotificationKind.values:
        raise DomainError(f"Unknown notification kind {kind!r}.", code="invalid_kind")
    params = params or {}
    if message:
        try:
            with translation.override("en"):
                title, body = words(message, params)
        except UNWORDABLE as exc:
            raise DomainError(
                f"Notification {message!r} cannot be worded from its facts ({exc!r}).",
                code="invalid_message",
            ) from exc
    title = (title or "").strip()
    if not title or len(title) > _TITLE_MAX:
        raise DomainError(
            f"A notification needs a title of 1 to {_TITLE_MAX} characters.", code="invalid_title"
        )
    if link and (not link.startswith("/") or link.startswith("//") or len(link) > _LINK_MAX):
        raise DomainError(
            "A notification link is a path inside the seller center, e.g. /activities/.",
            code="invalid_link",
        )
    if roles is not None and users is not None:
        raise DomainError(
            "Name recipients by roles or by users, not both.", code="invalid_recipients"
        )
    members = Membership.objects.filter(shop=shop).select_related("user")
    if roles is not None:
        members = members.filter(role__in=list(roles))
    if users is not None:
        members = members.filter(user__in=[u.pk for u in users])
    recipients = [m.user for m in members.order_by("user_id") if m.user.is_active]
    channels = notification_channels(users=recipients, kind=kind)
    rows = Notification.objects.bulk_create(
        Notification(
            recipient=u,
            shop=shop,
            kind=kind,
            title=title,
            body=body,
            link=link,
            message=message,
            params=params,
        )
        for u in recipients
        if channels[u.pk][0]
    )
    mail_to = [u.email for u in recipients if channels[u.pk][1] and u.email]
    if mail_to:
        subject = f"{shop.name}: {title}"
        base = getattr(settings, "SC_PUBLIC_URL", "").rstrip("/")
        text = "\n\n".join(part for part in (body, f"{base}{link}" if link else "") if part)
        transaction.on_commit(lambda: _send_notification_emails(subject, text, mail_to))
    return rows


def _send_notification_emails(subject: str, text: str, recipients: list[str]) -> None:
    # One message per recipient (no one sees the others' addresses), one connection.
    messages = [EmailMessage(subject=subject, body=text, to=[addr]) for addr in recipients]
    try:
        mailers["default"].send_messages(messages)
    except Exception:  # the in-app rows are committed; a mail outage must not fail the caller
        log.exception("notification email to %d recipient(s) failed", len(recipients))


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        now = clock.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, user, shop_ids) -> int:
    return Notification.objects.filter(
        recipient=user, shop_id__in=list(shop_ids), read_at__isnull=True
    ).update(read_at=clock.now())


@transaction.atomic
def notification_preferences_set(*, user, choices: dict[str, tuple[bool, bool]]) -> None:
    """``choices``: kind -> (in_app, email)."""
    unknown = set(choices) - set(NotificationKind.values)
    if unknown:
        raise DomainError(f"Unknown notification kinds {sorted(unknown)}.", code="invalid_kind")
    for kind, (in_app, email) in choices.items():
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"in_app": bool(in_app), "email": bool(email)}
        )


# --- the shop a member works in --------------------------------------------------------------


def membership_mark_used(*, membership: Membership, at: datetime | None = None) -> None:
    """Remember that the member chose this shop now (the next sign-in opens it).

    One UPDATE of one row, no read-modify-write: two tabs switching at once both land, the
    later time wins."""
    at = at or clock.now()
    Membership.objects.filter(pk=membership.pk).update(last_used_at=at)
    membership.last_used_at = at
