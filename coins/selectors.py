"""Reads of the coin module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from buyers.models import Buyer
from core import clock
from core.checks import Check
from core.money import Money
from orders.models import Order
from orders.selectors import positive_feedback_90d
from shops.models import Product, Region, ReviewStatus, Shop
from shops.selectors import serious_violations

from . import rules
from .models import (
    CoinAccount,
    CoinFund,
    CoinGrant,
    CoinLot,
    CoinMovement,
    CoinProductSetting,
    CoinRedemption,
    CoinRedemptionPart,
    CoinWallet,
)


def opening_checks(
    *, shop: Shop, at: datetime | None = None, violations: int | None = None
) -> list[Check]:
    """SPEC C-1: the automatic checks for opening a coin account, each with its measured value.
    ``violations``: the serious violations in the window when the caller has counted them
    already (the home tile counts them in its one query)."""
    at = at or clock.now()
    required_region = Region(rules.opening_region())
    min_rate = rules.min_positive_rate()
    window = rules.violation_window_days()

    # (a) registered in mainland China and enterprise-certified.
    region_ok = shop.registration_region == required_region
    checks = [
        Check(
            code="c1a_region",
            label=_("Registered in mainland China"),
            passed=region_ok,
            measured=str(shop.get_registration_region_display()),
            required=str(required_region.label),
            detail=""
            if region_ok
            else _("Coin accounts are open only to shops registered in %(region)s.")
            % {"region": required_region.label},
            fix=""
            if region_ok
            else _(
                "The registration region is set when a shop is registered with the "
                "marketplace: ask marketplace seller support whether your company can register "
                "a shop there."
            ),
        ),
        Check(
            code="c1a_enterprise",
            label=_("Enterprise certification"),
            passed=shop.enterprise_certified,
            measured=_("Certified") if shop.enterprise_certified else _("Not certified"),
            required=_("Certified"),
            detail=""
            if shop.enterprise_certified
            else _("Your shop is not enterprise-certified yet."),
            fix=""
            if shop.enterprise_certified
            else _(
                "Complete enterprise certification in the marketplace's seller settings; "
                "this page updates once the marketplace confirms it."
            ),
        ),
    ]

    # (b) 90-day positive feedback rate >= the minimum: compared on the counts, exactly; the
    # rate shown rounds down, so a failing 94.97% never reads 95.0%.
    positive, total = positive_feedback_90d(shop=shop, at=at)
    delivered_orders = f"{reverse('orders:list')}?status=delivered"
    if not total:
        checks.append(
            Check(
                code="c1b_positive_rate",
                label=_("90-day positive feedback rate"),
                passed=False,
                measured=_("no feedback in 90 days"),
                required=f"≥ {min_rate}%",
                detail=_("A rate cannot be measured without buyer feedback."),
                fix=_(
                    "Ask the buyers of your delivered orders to leave feedback; the rate "
                    "appears with the first review."
                ),
                fix_url=delivered_orders,
                fix_link=_("Delivered orders"),
            )
        )
    else:
        ok = rules.positive_rate_met(positive=positive, total=total, min_percent=min_rate)
        rate = rules.percent_shown(positive, total)
        checks.append(
            Check(
                code="c1b_positive_rate",
                label=_("90-day positive feedback rate"),
                passed=ok,
                measured=f"{rate}%",
                required=f"≥ {min_rate}%",
                detail=""
                if ok
                else _("90-day positive rate %(rate)s%% < %(min)s%%")
                % {"rate": rate, "min": min_rate},
                fix=""
                if ok
                else _(
                    "Contact the buyers of delivered orders who were unhappy, resolve their "
                    "issues, and ship on time: older negative feedback leaves the 90-day window."
                ),
                fix_url="" if ok else delivered_orders,
                fix_link="" if ok else _("Delivered orders"),
            )
        )

    # (c) no serious violation in the window.
    n = serious_violations(shop=shop, days=window, at=at) if violations is None else violations
    checks.append(
        Check(
            code="c1c_violations",
            label=_("No serious violation in the last %(days)s days") % {"days": window},
            passed=n == 0,
            measured=ngettext("%(n)s serious violation", "%(n)s serious violations", n) % {"n": n},
            required="0",
            fix=""
            if n == 0
            else ngettext(
                "This condition passes again once the violation is older than %(days)s days; "
                "if it was recorded in error, appeal it with marketplace seller support.",
                "This condition passes again once the violations are older than %(days)s days; "
                "if one was recorded in error, appeal it with marketplace seller support.",
                n,
            )
            % {"days": window},
        )
    )
    return checks


# --- the seller pages: account, fund, products, wallets (C-1 … C-9) ------------------------------


def account_for_shop(*, shop: Shop) -> CoinAccount | None:
    """The shop's coin account with its fund (one query), or None before it is opened."""
    return CoinAccount.objects.select_related("fund").filter(shop=shop).first()


def fund_minor(fund: CoinFund | None) -> int:
    """SPEC C-4/C-5: what the fund holds free to issue, in minor units (1 coin = ¥0.01)."""
    return fund.available * rules.coin_value_minor() if fund is not None else 0


def fund_movements(*, shop: Shop) -> QuerySet[CoinMovement]:
    """Every movement touching the shop's fund (top-up, reserve = grant, spend = redemption,
    release = expiry and clawback, refund return), newest first, with its order (the page links
    it); keyset-paginated."""
    return (
        CoinMovement.objects.filter(shop=shop)
        .select_related("order")
        .order_by("-created_at", "-id")
    )


@dataclass
class ProductCoinStatus:
    """SPEC C-3/C-4: one product's coin setting, whether coins show, why not, and its label."""

    product: Product
    enabled: bool
    ratio_bp: int
    price_minor: int
    problems: list[str] = field(default_factory=list)
    max_deduction_minor: int = 0
    currency: str = ""

    @property
    def shows(self) -> bool:
        return not self.problems

    @property
    def ratio_percent(self) -> str:
        return f"{self.ratio_bp / 100:g}"

    @property
    def max_deduction(self) -> Money:
        return Money(self.max_deduction_minor, self.currency)

    @property
    def label(self) -> str:
        return label_text(self.max_deduction)


def label_text(amount: Money) -> str:
    """The storefront label of a product (SPEC C-3)."""
    return _("up to %(amount)s off with coins") % {"amount": amount.format()}


def _products_with_price(qs: QuerySet[Product]) -> QuerySet[Product]:
    # The label shows the largest possible deduction: that of the product's dearest SKU.
    return qs.select_related("coin_setting").annotate(price_minor=Max("skus__price_minor"))


@dataclass(frozen=True)
class LabelNumbers:
    """The registry numbers of C-3/C-4, read once per page (each read may be a query)."""

    coin_value_minor: int
    cap_bp: int
    cap_minor: int
    fund_min_minor: int

    @classmethod
    def read(cls) -> LabelNumbers:
        return cls(
            coin_value_minor=rules.coin_value_minor(),
            cap_bp=rules.deduction_cap_bp(),
            cap_minor=rules.deduction_cap_minor(),
            fund_min_minor=rules.fund_display_min_minor(),
        )


def product_coin_status(
    *,
    product: Product,
    account: CoinAccount | None,
    currency: str,
    numbers: LabelNumbers | None = None,
) -> ProductCoinStatus:
    """SPEC C-3/C-4 for a product read through ``_products_with_price`` (no query when
    ``numbers`` are given)."""
    n = numbers or LabelNumbers.read()
    try:
        setting = product.coin_setting
    except CoinProductSetting.DoesNotExist:
        setting = None
    enabled = bool(setting and setting.enabled)
    ratio = setting.max_ratio_bp if setting else 0
    price = int(getattr(product, "price_minor", 0) or 0)
    fund = account.fund if account is not None else None
    problems = rules.display_problems(
        enabled=enabled,
        approved=product.review_status == ReviewStatus.APPROVED,
        account_active=account is not None and account.active,
        fund_minor=fund.available * n.coin_value_minor if fund is not None else 0,
        fund_min_minor=n.fund_min_minor,
    )
    deduction = rules.label_max_deduction_minor(
        price_minor=price,
        ratio_bp=ratio if enabled else 0,
        cap_bp=n.cap_bp,
        cap_minor=n.cap_minor,
        coin_value_minor=n.coin_value_minor,
    )
    return ProductCoinStatus(
        product=product,
        enabled=enabled,
        ratio_bp=ratio,
        price_minor=price,
        problems=problems,
        max_deduction_minor=deduction,
        currency=currency,
    )


def product_status_queryset(
    *, shop: Shop, account: CoinAccount | None, problems_only: bool = False, q: str = ""
) -> QuerySet[Product]:
    """The shop's products for the status board (C-4), by title; with ``problems_only`` those
    where coins do not show (all of them while the account or the fund fails)."""
    qs = Product.objects.filter(shop=shop)
    if q:
        qs = qs.filter(title__icontains=q)
    account_ok = (
        account is not None
        and account.active
        and fund_minor(account.fund) >= rules.fund_display_min_minor()
    )
    if problems_only and account_ok:
        qs = qs.exclude(coin_setting__enabled=True, review_status=ReviewStatus.APPROVED)
    return _products_with_price(qs).order_by("title", "id")


def products_of_shop(*, shop: Shop, product_ids: list[int]) -> list[Product]:
    """The products ``product_ids`` of ``shop``; Http404 if one is another shop's or unknown."""
    ids = set(product_ids)
    products = list(Product.objects.filter(shop=shop, pk__in=ids).select_related("coin_setting"))
    if len(products) != len(ids):
        raise Http404("No such product in this shop.")
    return products


def storefront_product_status(*, shop: Shop, product: Product) -> ProductCoinStatus:
    """SPEC C-3/C-4 for the storefront API: three queries."""
    account = account_for_shop(shop=shop)
    row = _products_with_price(Product.objects.filter(pk=product.pk)).get()
    return product_coin_status(product=row, account=account, currency=shop.currency)


# --- wallets and provenance -----------------------------------------------------------------


WALLET_SORTS = {
    "-balance": ("-balance", "-id"),
    "balance": ("balance", "id"),
    "-created": ("-created_at", "-id"),
}


def _soonest_expiry(at: datetime):
    lots = CoinLot.objects.filter(
        wallet=OuterRef("pk"), remaining__gt=0, expires_at__gt=at
    ).order_by("expires_at", "pk")
    return Subquery(lots.values("expires_at")[:1]), Subquery(lots.values("remaining")[:1])


def wallets_for_shop(
    *, shop: Shop, sort: str = "-balance", at: datetime | None = None
) -> QuerySet[CoinWallet]:
    """The shop's buyer wallets with each one's soonest expiry (two subqueries per page)."""
    at = at or clock.now()
    expiry, expiring = _soonest_expiry(at)
    return (
        CoinWallet.objects.filter(shop=shop)
        .select_related("buyer")
        .annotate(soonest_expiry=expiry, soonest_expiring=expiring)
        .order_by(*WALLET_SORTS.get(sort, WALLET_SORTS["-balance"]))
    )


def get_wallet_for_shop(*, shop: Shop, buyer_id: int) -> tuple[Buyer, CoinWallet | None]:
    """A buyer of ``shop`` (one holding its coins or with an order there) and their wallet
    (None before their first coins); Http404 for anyone else, so another shop's buyers stay
    invisible."""
    wallet = CoinWallet.objects.select_related("buyer").filter(shop=shop, buyer_id=buyer_id).first()
    if wallet is not None:
        return wallet.buyer, wallet
    if not Order.objects.filter(shop=shop, buyer_id=buyer_id).exists():
        raise Http404("No such buyer in this shop.")
    return Buyer.objects.get(pk=buyer_id), None


@dataclass(frozen=True)
class BuyerBalance:
    coins: int
    value: Money
    soonest_expiry: datetime | None
    soonest_expiring: int


def buyer_balance(*, shop: Shop, buyer_id: int, at: datetime | None = None) -> BuyerBalance:
    """SPEC C-6: what a buyer may spend in ``shop`` now (unexpired lots) and what expires
    first: one aggregate and one row."""
    at = at or clock.now()
    lots = CoinLot.objects.filter(
        wallet__shop=shop, wallet__buyer_id=buyer_id, remaining__gt=0, expires_at__gt=at
    )
    first = lots.order_by("expires_at", "pk").values("expires_at").first()
    coins = 0
    soonest, expiring = None, 0
    if first is not None:
        soonest = first["expires_at"]
        total = lots.aggregate(
            coins=Sum("remaining"), expiring=Sum("remaining", filter=Q(expires_at=soonest))
        )
        coins, expiring = int(total["coins"] or 0), int(total["expiring"] or 0)
    return BuyerBalance(
        coins=coins,
        value=Money(coins * rules.coin_value_minor(), shop.currency),
        soonest_expiry=soonest,
        soonest_expiring=expiring,
    )


def wallet_lots(*, wallet: CoinWallet | None) -> QuerySet[CoinLot]:
    """Provenance of a wallet: every lot with the rule and order that created it, and where its
    coins went (redemptions with their orders; expiry and clawbacks on the lot), newest first.
    A page costs three queries whatever it holds: lots, redemption parts, clawbacks."""
    return (
        (CoinLot.objects.filter(wallet=wallet) if wallet else CoinLot.objects.none())
        .select_related("rule", "order", "grant")
        .prefetch_related("spent_in__redemption__order", "grant__clawbacks")
        .order_by("-created_at", "-id")
    )


@dataclass
class OrderCoins:
    """SPEC C-8/C-9 on the order page: lots this order spent, coins granted for it, accounting."""

    order: Order
    parts: list[CoinRedemptionPart]
    grants: list[CoinGrant]
    returned: int

    @property
    def granted(self) -> int:
        return sum(g.coins for g in self.grants)

    @property
    def gmv(self) -> Money:
        return self.order.gmv  # SPEC C-9: paid (less refunds), coins excluded

    @property
    def invoice(self) -> Money:
        return self.order.invoice_amount  # SPEC C-9: the full amount, coins included

    @property
    def commission_base(self) -> Money:
        return self.order.gmv  # SPEC C-9: coins earn no commission

    @property
    def coins_value(self) -> Money:
        return self.order.coin_deduction


def order_coins(*, order: Order) -> OrderCoins:
    """The coins of one order (the order is the shop's: the order page selected it by shop):
    three queries whatever the order holds."""
    redemption = (
        CoinRedemption.objects.filter(order=order).first() if order.coin_deduction_coins else None
    )
    parts = (
        list(
            CoinRedemptionPart.objects.filter(redemption=redemption)
            .select_related("lot__rule", "lot__order")
            .order_by("lot__expires_at", "pk")
        )
        if redemption is not None
        else []
    )
    grants = list(
        CoinGrant.objects.filter(order=order).select_related("rule", "lot").order_by("pk")
    )
    return OrderCoins(
        order=order,
        parts=parts,
        grants=grants,
        returned=redemption.returned if redemption is not None else 0,
    )


def account_active(*, shop: Shop) -> bool:
    """Whether ``shop`` has a coin account that is active (not paused): SPEC C-10 coin-themed
    activities are open only to those shops (read by the activities module)."""
    from .models import AccountStatus, CoinAccount

    return CoinAccount.objects.filter(shop=shop, status=AccountStatus.ACTIVE).exists()


# --- the mailing module's audience (SPEC B-8 coin balance, M-4 "coins expiring soon") ----------


def wallet_balance(*, shop: Shop, buyer_ref: OuterRef) -> Subquery:
    """A buyer's coin balance in ``shop`` as a subquery on ``buyer_ref`` (NULL: no wallet)."""
    return Subquery(CoinWallet.objects.filter(shop=shop, buyer_id=buyer_ref).values("balance")[:1])


def buyers_with_coins_expiring(*, shop: Shop, at: datetime, until: datetime) -> QuerySet:
    """Ids of the buyers of ``shop`` holding unspent coins that expire in (``at``, ``until``]:
    a values queryset to use as a subquery (``buyer_id__in=…``), served by the
    ``coin_lot_wallet_expiry`` index."""
    return (
        CoinLot.objects.filter(
            wallet__shop=shop, remaining__gt=0, expires_at__gt=at, expires_at__lte=until
        )
        .values("wallet__buyer_id")
        .order_by()
    )


def coins_granted_value_by_order(*, order_ids) -> dict[int, int]:
    """SPEC C-5 committed coin cost of some orders: the value (minor units) of the coins granted
    for each of ``order_ids`` (an iterable or a subquery of order ids), as granted (a later
    clawback is not subtracted). One query; read by the activities review report (SPEC E-6)."""
    coin = rules.coin_value_minor()
    rows = (
        CoinGrant.objects.filter(order_id__in=order_ids)
        .values("order_id")
        .annotate(coins=Sum("coins"))
        .order_by()
    )
    return {r["order_id"]: int(r["coins"]) * coin for r in rows}
