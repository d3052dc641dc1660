"""The set-up pages (SPEC M-1, M-2): enabling, sender domain, brand, templates; per role,
tenant-isolated, query-counted."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from mailkit import publish

from mailing.models import BrandProfile, DomainKind, MailingAccount, MailTemplate, SenderDomain
from mailing.rendering import logo_url
from mailing.services import setup

INDEX = "/mailing/"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _png(name="logo.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


# --- enabling (M-1) ---------------------------------------------------------------------------


def test_m1_eligible_owner_sees_the_button_and_enables(m1_met, owner_client, shop_a):
    # when
    page = owner_client.get(INDEX).content.decode()
    response = owner_client.post(reverse("mailing:enable"))
    # then
    assert 'id="mailing-enable-form"' in page
    assert response.status_code == 302
    account = MailingAccount.objects.get(shop=shop_a)
    assert account.enabled_at is not None
    overview = owner_client.get(INDEX).content.decode()
    assert 'id="mailing-account"' in overview
    assert 'data-check="m2_domain" data-state="pass"' in overview
    assert 'data-check="m2_brand" data-state="fail"' in overview
    assert 'data-check="m2_template" data-state="fail"' in overview


def test_m1_ineligible_shop_is_refused_with_the_failing_checks(owner_client, shop_a):
    # given: the default thresholds ($5,000 GMV) are not met by the CNY fixture shop
    # when
    response = owner_client.post(reverse("mailing:enable"), follow=True)
    # then
    content = response.content.decode()
    assert "cannot be enabled yet" in content
    assert 'data-check="m1_gmv"' in content
    assert 'id="mailing-enable-form"' not in content
    assert not MailingAccount.objects.exists()


def test_m1_service_refusal_names_each_failed_check(shop_a):
    from core.errors import DomainError

    with pytest.raises(DomainError) as exc:
        setup.mailing_enable(shop=shop_a)
    assert exc.value.code == "mailing_not_eligible"
    assert "30-day GMV" in exc.value.message


def test_m1_enabling_twice_keeps_one_account(m1_met, shop_a):
    first = setup.mailing_enable(shop=shop_a)
    again = setup.mailing_enable(shop=shop_a)
    assert again.pk == first.pk
    assert SenderDomain.objects.filter(shop=shop_a).count() == 1


def test_m1_analyst_cannot_enable(m1_met, analyst_client, shop_a):
    page = analyst_client.get(INDEX).content.decode()
    assert 'id="mailing-enable-form"' not in page
    assert "An owner or a marketer of the shop can enable marketing email." in page
    assert analyst_client.post(reverse("mailing:enable")).status_code == 403
    assert not MailingAccount.objects.exists()


def test_m1_enable_is_post_only(m1_met, owner_client):
    assert owner_client.get(reverse("mailing:enable")).status_code == 405


@pytest.mark.parametrize("name", ["mailing:domain", "mailing:brand", "mailing:templates"])
def test_m2_set_up_pages_before_enabling_lead_to_the_overview(owner_client, name):
    response = owner_client.get(reverse(name))
    assert response.status_code == 302
    assert response.url == INDEX


# --- sender domain page -------------------------------------------------------------------------


def test_m2_domain_page_shows_each_record_with_expected_value_and_problem(
    enabled_a, owner_client, shop_a, dns_server
):
    # given
    owner_client.post(reverse("mailing:domain"), {"action": "own", "domain": "promo.brand-a.com"})
    domain = SenderDomain.objects.get(shop=shop_a, kind=DomainKind.OWN)
    publish(dns_server, domain, skip=("dkim",))
    # when
    owner_client.post(reverse("mailing:domain_check"))
    page = owner_client.get(reverse("mailing:domain")).content.decode()
    # then
    assert domain.verification_token in page
    assert domain.dkim_public_key in page
    assert "include:_spf.sellercenter.example" in page
    assert 'data-record="spf" data-state="pass"' in page
    assert 'data-record="dkim" data-state="fail"' in page
    assert "No record found at this name." in page
    assert 'id="not-verified-note"' in page
    # when: fixed
    publish(dns_server, domain)
    owner_client.post(reverse("mailing:domain_check"))
    page = owner_client.get(reverse("mailing:domain")).content.decode()
    assert 'data-record="dkim" data-state="pass"' in page
    assert 'id="not-verified-note"' not in page


def test_m2_domain_form_errors_are_shown_and_nothing_is_saved(enabled_a, owner_client):
    response = owner_client.post(reverse("mailing:domain"), {"action": "own", "domain": "a.com"})
    assert response.status_code == 200
    assert "Use a subdomain of your domain" in response.content.decode()
    assert not SenderDomain.objects.filter(kind=DomainKind.OWN).exists()


def test_m2_domain_check_is_rate_limited(enabled_a, owner_client, shop_a, dns_server):
    setup.own_domain_set(shop=shop_a, domain="promo.brand-a.com")
    for _ in range(10):
        owner_client.post(reverse("mailing:domain_check"))
    asked = len(dns_server.queries)
    response = owner_client.post(reverse("mailing:domain_check"), follow=True)
    assert "Too many checks" in response.content.decode()
    assert len(dns_server.queries) == asked


def test_m2_analyst_sees_the_domain_page_but_cannot_change_it(enabled_a, analyst_client):
    page = analyst_client.get(reverse("mailing:domain")).content.decode()
    assert "Your role can view the sender domain but not change it." in page
    response = analyst_client.post(
        reverse("mailing:domain"), {"action": "own", "domain": "promo.brand-a.com"}
    )
    assert response.status_code == 403
    assert analyst_client.post(reverse("mailing:domain_check")).status_code == 403


def test_m2_domain_page_shows_only_the_current_shops_domains(
    enabled_a, enabled_b, owner_client, shop_b
):
    setup.own_domain_set(shop=shop_b, domain="promo.brand-b.com")
    page = owner_client.get(reverse("mailing:domain")).content.decode()
    assert "brand-b" not in page
    assert "shop-b.mail" not in page
    assert "shop-a.mail" in page


# --- brand --------------------------------------------------------------------------------------


def _brand_post(**extra):
    data = {
        "sender_name": "Lotus Home",
        "primary_colour": "#112233",
        "background_colour": "#fafafa",
        "physical_address": "1 Wensan Road\nHangzhou",
        "service_phone": "+86 571 8502 2088",
    }
    data.update(extra)
    return data


def test_m2_brand_saved_with_logo_and_footer(enabled_a, owner_client, shop_a, client):
    # when
    response = owner_client.post(reverse("mailing:brand"), _brand_post(logo=_png()))
    # then
    assert response.status_code == 302
    brand = BrandProfile.objects.get(shop=shop_a)
    assert brand.footer_complete
    assert brand.service_phone == "+86 571 8502 2088"
    assert brand.logo.content_type == "image/png"
    # the logo: staff through the private view, mail clients through the signed link only
    assert owner_client.get(reverse("mailing:brand_logo_private")).status_code == 200
    public = client.get(logo_url(brand).split("localhost:8000", 1)[1])
    assert public.status_code == 200
    assert b"".join(public.streaming_content) == PNG
    assert client.get(reverse("mailing:brand_logo", args=["forged"])).status_code == 404


def test_m2_brand_bad_input_is_refused_with_messages(enabled_a, owner_client, shop_a):
    exe = SimpleUploadedFile("logo.png", b"MZ\x90\x00" + b"\x00" * 200, content_type="image/png")
    response = owner_client.post(
        reverse("mailing:brand"),
        _brand_post(
            primary_colour="red", service_phone="12345", sender_name="A\r\nBcc: x", logo=exe
        ),
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "international form" in content
    assert "one line" in content
    brand = BrandProfile.objects.get(shop=shop_a)
    assert brand.physical_address == ""
    assert brand.logo_id is None


def test_m2_brand_logo_of_another_type_is_refused(enabled_a, owner_client, shop_a):
    pdf = SimpleUploadedFile("logo.pdf", b"%PDF-1.4\n" + b"0" * 200, content_type="image/png")
    response = owner_client.post(reverse("mailing:brand"), _brand_post(logo=pdf))
    assert response.status_code == 200
    assert "PNG or JPEG" in response.content.decode()
    assert BrandProfile.objects.get(shop=shop_a).logo_id is None


def test_m2_brand_logo_link_of_a_replaced_logo_is_gone(enabled_a, owner_client, shop_a, client):
    owner_client.post(reverse("mailing:brand"), _brand_post(logo=_png()))
    old = logo_url(BrandProfile.objects.get(shop=shop_a)).split("localhost:8000", 1)[1]
    owner_client.post(reverse("mailing:brand"), _brand_post(logo=_png("new.png")))
    assert client.get(old).status_code == 404


def test_m2_analyst_cannot_change_the_brand(enabled_a, analyst_client):
    page = analyst_client.get(reverse("mailing:brand")).content.decode()
    assert "Your role can view the brand profile but not change it." in page
    assert analyst_client.post(reverse("mailing:brand"), _brand_post()).status_code == 403


def test_m7_brand_footer_completes_the_set_up(enabled_a, owner_client, shop_a):
    owner_client.post(reverse("mailing:brand"), _brand_post(logo=_png()))
    page = owner_client.get(INDEX).content.decode()
    assert 'data-check="m2_brand" data-state="pass"' in page


# --- templates ------------------------------------------------------------------------------------


def test_m2_seller_copies_a_builtin_and_edits_it(enabled_a, owner_client, shop_a):
    # given
    page = owner_client.get(reverse("mailing:templates")).content.decode()
    assert page.count("data-builtin=") == 12
    # when
    response = owner_client.post(reverse("mailing:template_copy"), {"builtin": "restock_alert"})
    template = MailTemplate.objects.get(shop=shop_a)
    edit = reverse("mailing:template_edit", args=[template.pk])
    assert response.url == edit
    assert template.variants.count() == 6
    saved = owner_client.post(
        f"{edit}?lang=pt",
        {
            "name": "Restock PT",
            "subject": "Voltou: {{ product.name }}",
            "preheader": "",
            "body": (
                "<p>Olá {{ buyer.first_name }}</p>"
                '<a class="sc-button" href="{{ product.url }}">Comprar</a>'
            ),
        },
    )
    # then
    assert saved.status_code == 302
    pt = template.variants.get(language="pt")
    assert pt.subject == "Voltou: {{ product.name }}"
    template.refresh_from_db()
    assert template.name == "Restock PT"
    preview = owner_client.get(
        reverse("mailing:template_preview", args=[template.pk]) + "?lang=pt"
    ).content.decode()
    assert "Voltou: Wireless earbuds" in preview
    assert 'sandbox=""' in preview
    frame = owner_client.get(
        reverse("mailing:template_preview_frame", args=[template.pk]) + "?lang=pt"
    )
    assert frame.status_code == 200
    assert "Olá Maria" in frame.content.decode()
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    policy = frame["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "default-src 'none'" in policy
    assert "sandbox" in policy
    index = owner_client.get(INDEX).content.decode()
    assert 'data-check="m2_template" data-state="pass"' in index


def test_m2_template_injection_in_the_form_is_refused(enabled_a, owner_client, shop_a, settings):
    template = setup.template_copy(shop=shop_a, builtin_key="welcome")
    edit = reverse("mailing:template_edit", args=[template.pk])
    before = template.variants.get(language="en").body
    response = owner_client.post(
        f"{edit}?lang=en",
        {
            "name": "x",
            "subject": "{{ settings.SECRET_KEY }}",
            "preheader": "",
            "body": "{% load x %}",
        },
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Unknown merge tag" in content
    assert "Template instructions" in content
    assert settings.SECRET_KEY not in content
    assert template.variants.get(language="en").body == before


def test_m2_unknown_builtin_is_refused(enabled_a, owner_client):
    response = owner_client.post(reverse("mailing:template_copy"), {"builtin": "nope"}, follow=True)
    assert "Choose one of the built-in templates." in response.content.decode()
    assert not MailTemplate.objects.exists()


def test_m2_another_shops_template_is_404(enabled_a, enabled_b, owner_client, shop_b):
    theirs = setup.template_copy(shop=shop_b, builtin_key="welcome")
    for name in (
        "mailing:template_edit",
        "mailing:template_preview",
        "mailing:template_preview_frame",
    ):
        assert owner_client.get(reverse(name, args=[theirs.pk])).status_code == 404
    response = owner_client.post(
        reverse("mailing:template_edit", args=[theirs.pk]),
        {"name": "x", "subject": "x", "preheader": "", "body": "x"},
    )
    assert response.status_code == 404
    assert theirs.variants.get(language="en").subject != "x"


def test_m2_analyst_can_preview_but_not_edit(enabled_a, analyst_client, shop_a):
    template = setup.template_copy(shop=shop_a, builtin_key="welcome")
    edit = reverse("mailing:template_edit", args=[template.pk])
    assert (
        analyst_client.get(reverse("mailing:template_preview", args=[template.pk])).status_code
        == 200
    )
    assert "Your role can preview templates but not change them." in (
        analyst_client.get(edit).content.decode()
    )
    assert analyst_client.post(edit, {"name": "x", "subject": "x", "body": "x"}).status_code == 403
    assert (
        analyst_client.post(reverse("mailing:template_copy"), {"builtin": "welcome"}).status_code
        == 403
    )


def test_m2_template_list_is_paginated_and_query_counted(
    enabled_a, owner_client, shop_a, settings, django_assert_max_num_queries
):
    # given: more templates than one page
    settings.SC_PAGE_SIZE = 3
    for _ in range(4):
        setup.template_copy(shop=shop_a, builtin_key="welcome")
    # when
    with django_assert_max_num_queries(12):
        first = owner_client.get(reverse("mailing:templates"))
    # then
    assert first.content.decode().count("data-template=") == 3
    assert 'rel="next"' in first.content.decode()
    # a malformed cursor is the first page again, never a 500
    assert owner_client.get(reverse("mailing:templates") + "?after=%%%").status_code == 200


@pytest.mark.parametrize(
    "name",
    ["mailing:index", "mailing:domain", "mailing:brand", "mailing:templates"],
)
def test_m2_set_up_pages_query_counts_do_not_grow(
    enabled_a, owner_client, shop_a, name, django_assert_max_num_queries
):
    for _ in range(5):
        setup.template_copy(shop=shop_a, builtin_key="welcome")
    setup.own_domain_set(shop=shop_a, domain="promo.brand-a.com")
    with django_assert_max_num_queries(14):
        assert owner_client.get(reverse(name)).status_code == 200


def test_m2_template_pages_query_counts(
    enabled_a, owner_client, shop_a, django_assert_max_num_queries
):
    template = setup.template_copy(shop=shop_a, builtin_key="welcome")
    for name in (
        "mailing:template_edit",
        "mailing:template_preview",
        "mailing:template_preview_frame",
    ):
        with django_assert_max_num_queries(14):
            assert owner_client.get(reverse(name, args=[template.pk])).status_code == 200
