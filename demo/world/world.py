"""The demo marketplace's cast: logins, shops with their catalogue, buyers and carts.

Everything here goes through the real services (shops.services, buyers.services,
orders.services.cart_update): these rows are few. Orders are ``planner``'s business.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from random import Random

from django.contrib.auth import get_user_model
from django.db import transaction

from buyers.models import Buyer, RiskStatus
from buyers.services import buyer_upsert
from orders import services as order_services
from shops.models import Carrier, ReviewStatus, Role, Shop, Sku
from shops.services import (
    logistics_set,
    membership_grant,
    product_upsert,
    shop_upsert,
    violation_record,
)

from . import catalog


@dataclass(frozen=True)
class Profile:
    """How a shop behaves, as rates the planner draws against (SPEC E-3 metrics show them)."""

    name: str
    unpaid: float  # orders never paid (auto-cancelled after a day)
    paid_cancel: float  # paid orders cancelled before shipping, then refunded in full
    late: float  # shipped orders shipped more than 72 h after creation
    late_hours: tuple[float, float]  # how long after creation a late order ships
    never_ship: float  # paid orders never shipped
    stall: float  # shipments whose tracking stops moving (logistics anomaly)
    dispute: float
    return_refund: float  # full refunds after delivery (returns)
    partial_refund: float
    ratings: tuple[int, int, int, int, int]  # weights of ratings 1..5
    not_as_described: float  # share of 1-2 star reviews that say "not as described"
    rating: tuple[str, str]  # published store rating range
    dsr_shipping: tuple[str, str]


PROFILES = {
    "healthy": Profile(
        "healthy",
        unpaid=0.05,
        paid_cancel=0.015,
        late=0.03,
        late_hours=(73, 96),  # a healthy shop that slips ships within the next day
        never_ship=0.0005,
        stall=0.03,
        dispute=0.015,
        return_refund=0.01,
        partial_refund=0.02,
        ratings=(12, 12, 25, 190, 760),
        not_as_described=0.4,
        rating=("4.70", "4.95"),
        dsr_shipping=("4.70", "4.90"),
    ),
    "late": Profile(
        "late",
        unpaid=0.06,
        paid_cancel=0.03,
        late=0.45,
        late_hours=(73, 240),
        never_ship=0.08,
        stall=0.12,
        dispute=0.05,
        return_refund=0.02,
        partial_refund=0.04,
        ratings=(60, 50, 90, 250, 550),
        not_as_described=0.3,
        rating=("4.30", "4.60"),
        dsr_shipping=("3.80", "4.30"),
    ),
    "canceller": Profile(
        "canceller",
        unpaid=0.08,
        paid_cancel=0.19,
        late=0.10,
        late_hours=(73, 200),
        never_ship=0.02,
        stall=0.05,
        dispute=0.04,
        return_refund=0.03,
        partial_refund=0.03,
        ratings=(50, 40, 80, 230, 600),
        not_as_described=0.6,
        rating=("4.40", "4.70"),
        dsr_shipping=("4.40", "4.70"),
    ),
    "new": Profile(
        "new",
        unpaid=0.07,
        paid_cancel=0.03,
        late=0.08,
        late_hours=(73, 160),
        never_ship=0.01,
        stall=0.05,
        dispute=0.02,
        return_refund=0.015,
        partial_refund=0.02,
        ratings=(25, 20, 50, 220, 685),
        not_as_described=0.5,
        rating=("4.50", "4.90"),
        dsr_shipping=("4.50", "4.80"),
    ),
}


@dataclass
class ShopInfo:
    shop: Shop
    profile: Profile
    origin: str
    weight: float  # relative order volume per active day (power law across shops)
    active_from: datetime  # orders start after this (new shops opened recently)
    skus: list[Sku] = field(default_factory=list)  # approved products' SKUs, by popularity
    sku_cum: list[float] = field(default_factory=list)
    official: list[str] = field(default_factory=list)
    third_party: list[str] = field(default_factory=list)
    order_count: int = 0

    def pick_sku(self, rng: Random) -> Sku:
        return self.skus[bisect(self.sku_cum, rng.random() * self.sku_cum[-1])]


@dataclass(frozen=True, slots=True)
class BuyerInfo:
    id: int
    country: str
    site: str
    registered_at: datetime


class Dist:
    """A fixed discrete distribution: ``weighted`` with the cumulative weights computed once."""

    __slots__ = ("cum", "values")

    def __init__(self, pairs) -> None:
        values, weights = zip(*pairs, strict=True)
        self.values = values
        self.cum = list(accumulate(weights))

    def pick(self, rng: Random):
        return self.values[bisect(self.cum, rng.random() * self.cum[-1])]


def weighted(rng: Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _dec(rng: Random, lo: str, hi: str) -> Decimal:
    a, b = int(Decimal(lo) * 100), int(Decimal(hi) * 100)
    return Decimal(rng.randint(a, b)) / 100


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# --- logins -------------------------------------------------------------------------------------

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo login, printed by the command


def ensure_users():
    """demo (owner), demo_marketer, demo_analyst and the admin superuser; existing ones kept."""
    user_model = get_user_model()
    users = {}
    hashed = None
    for username, email in (
        ("demo", "demo@example.com"),
        ("demo_marketer", "marketer@example.com"),
        ("demo_analyst", "analyst@example.com"),
    ):
        user = user_model.objects.filter(username=username).first()
        if user is None:
            if hashed is None:
                user = user_model.objects.create_user(
                    username=username, email=email, password=DEMO_PASSWORD
                )
                hashed = user.password
            else:
                # Same password: reuse the first hash rather than pay the (deliberately slow)
                # password hasher again; it still verifies with check_password("demo").
                user = user_model.objects.create_user(username=username, email=email)
                user.password = hashed
                user.save(update_fields=["password"])
        users[username] = user
    if not user_model.objects.filter(username="admin").exists():
        user_model.objects.create_superuser(
            username="admin",
            email="admin@example.com",
            password="admin",  # noqa: S106 - documented demo login
        )
    return users


def grant_demo_memberships(shops: list[ShopInfo], users) -> None:
    # The demo owner runs the first four shops: healthy, late shipper, new, high canceller.
    for info in shops[:4]:
        membership_grant(user=users["demo"], shop=info.shop, role=Role.OWNER)
    membership_grant(user=users["demo_marketer"], shop=shops[0].shop, role=Role.MARKETER)
    membership_grant(user=users["demo_analyst"], shop=shops[0].shop, role=Role.ANALYST)


# --- shops and catalogue ------------------------------------------------------------------------


def _shop_row(i: int, rng: Random):
    if i < len(catalog.SHOPS):
        return catalog.SHOPS[i]
    category = rng.choice(list(catalog.TRADES))
    name = f"{rng.choice(catalog.CITIES)} {rng.choice(catalog.BRANDS)} {catalog.TRADES[category]}"
    currency = weighted(rng, [("USD", 85), ("CNY", 8), ("EUR", 7)])
    return (
        f"{name} {i + 1}",
        category,
        currency,
        "CN",
        rng.random() < 0.75,
        rng.randint(1, 5),
        catalog.PROFILE_CYCLE[i % len(catalog.PROFILE_CYCLE)],
    )


def create_shops(*, rng: Random, count: int, now: datetime, window_days: int) -> list[ShopInfo]:
    infos = []
    for i in range(count):
        name, category, currency, region, certified, level, profile_name = _shop_row(i, rng)
        profile = PROFILES[profile_name]
        if profile_name == "new":
            opened_at = now - timedelta(days=rng.randint(25, 80), hours=rng.randint(0, 23))
        else:
            opened_at = now - timedelta(days=rng.randint(200, 2400), hours=rng.randint(0, 23))
        rating = _dec(rng, *profile.rating)
        shop = shop_upsert(
            external_id=f"ae-store-{910001 + i}",
            name=name,
            opened_at=opened_at,
            main_category=category,
            registration_region=region,
            enterprise_certified=certified,
            store_level=level,
            store_rating=rating,
            dsr_item_as_described=min(Decimal(5), rating + _dec(rng, "-0.10", "0.05")),
            dsr_communication=min(Decimal(5), rating + _dec(rng, "-0.05", "0.05")),
            dsr_shipping=_dec(rng, *profile.dsr_shipping),
            currency=currency,
        )
        city = name.split()[0]
        info = ShopInfo(
            shop=shop,
            profile=profile,
            origin=catalog.ORIGINS.get(city, "Shenzhen, CN"),
            weight=1 / (i + 1) ** 0.85,
            active_from=max(opened_at, now - timedelta(days=window_days)),
        )
        _create_logistics(info, rng, no_certified=(i == 18))
        _create_catalogue(info, rng)
        infos.append(info)
    _create_violations(infos, rng, now)
    return infos


def _create_logistics(info: ShopInfo, rng: Random, *, no_certified: bool) -> None:
    shop = info.shop
    # SPEC E-2 needs one certified carrier enabled; one shop has only third-party lines.
    if not no_certified:
        logistics_set(shop=shop, carrier=Carrier.AE_STANDARD, enabled=True, certified=True)
        info.official.append(Carrier.AE_STANDARD)
        if rng.random() < 0.7:
            logistics_set(shop=shop, carrier=Carrier.AE_SAVER, enabled=True, certified=True)
            info.official.append(Carrier.AE_SAVER)
    k = rng.randint(2, 3) if no_certified else rng.randint(0, 3)
    for carrier in rng.sample(catalog.THIRD_PARTY_CARRIERS, k):
        enabled = no_certified or rng.random() < 0.85
        logistics_set(shop=shop, carrier=carrier, enabled=enabled, certified=False)
        if enabled:
            info.third_party.append(carrier)
    if not info.official and not info.third_party:
        logistics_set(shop=shop, carrier=Carrier.CAINIAO, enabled=True, certified=False)
        info.third_party.append(Carrier.CAINIAO)


def _create_catalogue(info: ShopInfo, rng: Random) -> None:
    shop = info.shop
    titles, (lo, hi), variants = catalog.PRODUCTS[shop.main_category]
    factor = catalog.CURRENCY_FACTOR_PERCENT.get(shop.currency, 100)
    code = "".join(w[0] for w in _ascii(shop.name).upper().split() if w[0].isalpha())[:4]
    n_products = rng.randint(10, 60)
    images = catalog.PRODUCT_IMAGES[shop.main_category]
    approved_skus = []
    for p in range(n_products):
        base = titles[p % len(titles)]
        modifier = catalog.TITLE_MODIFIERS[(p // len(titles)) % len(catalog.TITLE_MODIFIERS)]
        title = f"{modifier} {base}".strip()
        picture = next((n for n, words in images if any(w in title for w in words)), images[-1][0])
        status = weighted(
            rng,
            [(ReviewStatus.APPROVED, 85), (ReviewStatus.PENDING, 10), (ReviewStatus.REJECTED, 5)],
        )
        usd = rng.randint(lo, hi)
        n_skus = weighted(rng, [(1, 35), (2, 30), (3, 20), (4, 15)])
        skus = []
        for k, variant in enumerate(rng.sample(variants, min(n_skus, len(variants)))):
            # Prices end in 9 like a storefront; variants differ a little.
            price = max(99, (usd + k * rng.randint(0, 300)) * factor // 100 // 10 * 10 + 9)
            lowest = None if rng.random() < 0.1 else price * rng.randint(80, 100) // 100
            skus.append(
                {
                    "code": f"{code}-{p + 1:03d}-{k + 1}",
                    "name": variant,
                    "price_minor": price,
                    "stock": 0 if rng.random() < 0.05 else rng.randint(20, 2500),
                    "lowest_price_30d_minor": lowest,
                }
            )
        product = product_upsert(
            shop=shop,
            external_id=f"{shop.external_id}-p{p + 1:04d}",
            title=title,
            category=shop.main_category,
            review_status=status,
            skus=skus,
            image_url=f"/static/img/products/{picture}.svg",
        )
        if status == ReviewStatus.APPROVED:
            approved_skus.extend(sorted(product.skus.all(), key=lambda s: s.code))
    if not approved_skus:  # every shop sells something
        product = product_upsert(
            shop=shop,
            external_id=f"{shop.external_id}-p0000",
            title=titles[0],
            category=shop.main_category,
            review_status=ReviewStatus.APPROVED,
            skus=[{"code": f"{code}-000-1", "price_minor": lo * factor // 100, "stock": 100}],
        )
        approved_skus = list(product.skus.all())
    rng.shuffle(approved_skus)
    info.skus = approved_skus
    # A few best sellers, a long tail (power law within the shop).
    info.sku_cum = list(accumulate(1 / (k + 1) ** 0.8 for k in range(len(approved_skus))))


def _create_violations(infos: list[ShopInfo], rng: Random, now: datetime) -> None:
    # "A couple" of shops with a serious violation in the last 30 days (SPEC C-1, M-1): the
    # demo's high canceller and one more; older minor ones elsewhere.
    serious = [i for i in (3, 5) if i < len(infos)]
    for n, i in enumerate(serious):
        kind, description = catalog.VIOLATIONS_SERIOUS[n % len(catalog.VIOLATIONS_SERIOUS)]
        violation_record(
            shop=infos[i].shop,
            external_id=f"vio-{infos[i].shop.external_id}-1",
            kind=kind,
            serious=True,
            occurred_at=now - timedelta(days=rng.randint(3, 25)),
            description=description,
        )
    for i in range(1, len(infos), 4):
        kind, description = rng.choice(catalog.VIOLATIONS_MINOR)
        violation_record(
            shop=infos[i].shop,
            external_id=f"vio-{infos[i].shop.external_id}-2",
            kind=kind,
            serious=False,
            occurred_at=now - timedelta(days=rng.randint(40, 200)),
            description=description,
        )


# --- buyers -------------------------------------------------------------------------------------


def create_buyers(*, rng: Random, count: int, now: datetime) -> list[BuyerInfo]:
    sites = list(catalog.SITES)
    site_weights = [catalog.SITES[s][0] for s in sites]
    emails: set[str] = set()
    phones: set[str] = set()
    buyers = []
    device = ""
    device_uses = 0
    fraud_device = f"dev-{rng.getrandbits(64):016x}"
    fraud_at = now - timedelta(days=rng.randint(20, 200))
    fraud_ids = set(rng.sample(range(count), min(5, count // 40)))
    for i in range(count):
        site = rng.choices(sites, weights=site_weights)[0]
        _w, countries, domains, _lang = catalog.SITES[site]
        country = weighted(rng, countries)
        registered_at = now - timedelta(seconds=rng.randint(3600, 365 * 86400))
        kind = weighted(rng, [("email", 80), ("both", 12), ("phone", 8)])
        email = phone = None
        if kind in ("email", "both"):
            first = rng.choice(catalog.FIRST_NAMES[site])
            last = rng.choice(catalog.LAST_NAMES[site])
            local = weighted(
                rng,
                [
                    (f"{first}.{last}", 4),
                    (f"{first}{last[:1]}{rng.randint(70, 99)}", 2),
                    (f"{first}_{last}{rng.randint(1, 999)}", 3),
                    (f"{last}.{first}", 1),
                ],
            )
            domain = weighted(rng, domains)
            email = f"{local}@{domain}"
            n = 1
            while email in emails:
                n += 1
                email = f"{local}{n}@{domain}"
            emails.add(email)
        if kind in ("phone", "both"):
            prefix, digits = catalog.PHONES[country]
            while True:
                if prefix == "+1":  # NANP: area code and exchange never start with 0 or 1
                    body = (
                        f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
                    )
                else:
                    body = f"{rng.randint(0, 10**digits - 1):0{digits}d}"
                phone = prefix + body
                if phone not in phones:
                    break
            phones.add(phone)
        risk = RiskStatus.OK
        if i in fraud_ids:
            # SPEC B-5: more than 3 registrations from one device in 30 days.
            device_id = fraud_device
            registered_at = fraud_at + timedelta(hours=rng.randint(0, 72))
            risk = RiskStatus.SUSPECTED_FRAUD
        elif device and device_uses < 3 and rng.random() < 0.04:
            device_id = device  # a shared family tablet
            device_uses += 1
        else:
            device = device_id = f"dev-{rng.getrandbits(64):016x}"
            device_uses = 1
        if risk == RiskStatus.OK and rng.random() < 0.01:
            risk = RiskStatus.RISK_REVIEW  # SPEC B-4: declared country did not match the IP
        buyer = buyer_upsert(
            external_id=f"buyer-{i + 1:07d}",
            email=email,
            phone=phone,
            country=country,
            site=site,
            device_id=device_id,
            registered_at=registered_at,
            risk_status=risk,
        )
        buyers.append(BuyerInfo(buyer.pk, buyer.country, site, registered_at))
    return buyers


# --- carts --------------------------------------------------------------------------------------


def create_carts(
    *,
    rng: Random,
    buyers: list[BuyerInfo],
    shops: list[ShopInfo],
    now: datetime,
    share: float = 0.08,
) -> int:
    """Abandoned carts for some buyers (SPEC M-4), through ``cart_update``."""
    if not buyers or not shops:
        return 0
    shop_cum = list(accumulate(s.weight for s in shops))
    carts = []
    for buyer in buyers:
        if rng.random() >= share:
            continue
        info = shops[bisect(shop_cum, rng.random() * shop_cum[-1])]
        items: dict[Sku, int] = {}
        for _ in range(weighted(rng, [(1, 60), (2, 30), (3, 10)])):
            items[info.pick_sku(rng)] = weighted(rng, [(1, 80), (2, 15), (3, 5)])
        at = max(now - timedelta(seconds=rng.randint(600, 14 * 86400)), buyer.registered_at)
        carts.append((info.shop, buyer.id, sorted(items.items(), key=lambda x: x[0].code), at))
    with transaction.atomic():
        for start in range(0, len(carts), 1000):
            batch = carts[start : start + 1000]
            by_id = Buyer.objects.in_bulk([c[1] for c in batch])
            for shop, buyer_id, items, at in batch:
                order_services.cart_update(shop=shop, buyer=by_id[buyer_id], items=items, at=at)
    return len(carts)
