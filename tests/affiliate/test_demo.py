"""The affiliate demo hook: believable data through the services (DESIGN §2)."""

import random
from datetime import timedelta

from factories import first_sku, make_order, make_product, make_shop

from affiliate import demo
from affiliate.models import Click, Commission, Pid, Programme, Promoter
from core import clock


def test_a1_a6_demo_seed_builds_a_living_programme(db):
    # given: an L3 shop with recent orders, and an L2 shop that cannot run a programme
    shop, low = make_shop(store_level=3), make_shop(store_level=2)
    sku = first_sku(make_product(shop, price_minor=80_00))
    now = clock.now()
    for i, status in enumerate(["paid", "completed", "shipped", "cancelled", "paid"] * 3):
        make_order(shop, sku=sku, status=status, placed_at=now - timedelta(days=i + 1))

    # when
    demo.seed(shops=[shop, low], rng=random.Random(7), now=now)

    # then
    assert Programme.objects.filter(shop=shop, enabled=True).exists()
    assert not Programme.objects.filter(shop=low).exists()
    assert Promoter.objects.filter(status="pending").count() == 1
    assert Pid.objects.filter(status="frozen").count() == 1
    assert Click.objects.count() > 40
    statuses = set(Commission.objects.filter(shop=shop).values_list("status", flat=True))
    assert {"pre_issued", "void"} <= statuses
    assert Commission.objects.filter(shop=shop).count() >= 12
    # the promoter portal's demo login works; the waiting promoter has its A-1 documents
    from affiliate import services

    assert services.promoter_authenticate(email=demo.PORTAL_LOGIN, password=demo.PORTAL_PASSWORD)
    waiting = Promoter.objects.get(status="pending")
    assert waiting.documents.count() == 5
    assert waiting.submitted_at < now - timedelta(hours=35)

    # and the simulator's tick keeps clicks coming
    before = Click.objects.count()
    from affiliate.services import clicks

    for _ in range(20):
        demo.tick(rng=random.Random(1), now=now)
    clicks.flush()
    assert Click.objects.count() > before


def test_demo_reseed_keeps_promoters_already_paid_out(db):
    # given: demo promoters after a flush (no links or clicks left), one of them paid by an
    # operator in a payout batch
    from constance.test import override_config

    from affiliate import services
    from affiliate.models import PayoutLine, PromoterBalance

    paid = services.promoter_approve(
        promoter=services.promoter_create(name="Paid", email=demo.PORTAL_LOGIN)
    )
    services.promoter_create(name="Other", email=f"review{demo.DEMO_DOMAIN}")
    Promoter.objects.filter(pk=paid.pk).update(trial=False)
    PromoterBalance.objects.create(promoter=paid, currency="USD", balance_minor=100_00)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency="USD")
    services.payout_batch_mark_paid(batch_id=batch.pk)

    # when: the demo forgets its previous promoters before seeding again
    demo._forget_previous_demo()

    # then: the paid promoter and its line stay under another address; the others are gone
    assert PayoutLine.objects.filter(promoter=paid).exists()
    assert Promoter.objects.get(pk=paid.pk).email.startswith("archived-")
    assert not Promoter.objects.filter(email__endswith=demo.DEMO_DOMAIN).exists()
