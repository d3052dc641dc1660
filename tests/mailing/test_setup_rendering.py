"""Sandboxed rendering of seller content (SPEC M-2 c, M-7): merge tags only from the allow-list,
no template internals, HTML sanitised with nh3, the footer always there; the 12 built-ins."""

import pytest

from core.errors import DomainError
from mailing import builtin_templates
from mailing.models import MailTemplateVariant, TemplateLanguage
from mailing.rendering import (
    MERGE_TAGS,
    TemplateRejected,
    TemplateSource,
    render,
    sample_context,
    validate_content,
)
from mailing.services import setup

CTX = {"unsubscribe_url": "https://sc.example/u/abc", "buyer": {"first_name": "Ana"}}


def _render(body, subject="Hello", **ctx):
    return render(TemplateSource(subject=subject, body=body), context={**CTX, **ctx}, language="en")


# --- injection refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "{% load static %}{% static 'x' %}",
        "{% debug %}",
        "{# comment #}",
        "{{ settings.SECRET_KEY }}",
        "{{ buyer.password }}",
        "{{ buyer.__class__ }}",
        "{{ buyer.first_name|safe }}",
        "{{ request.user }}",
        "{{ shop.owner.email }}",
        "{{ buyer.first_name",
    ],
)
def test_m2_template_syntax_and_unknown_merge_tags_are_refused(content, settings):
    # given: content a seller might try
    # when
    problems = validate_content(content)
    # then: refused when validated and when rendered, and nothing secret leaks
    assert problems
    with pytest.raises(TemplateRejected) as exc:
        _render(f"<p>{content}</p>")
    assert settings.SECRET_KEY not in " ".join(exc.value.problems)


def test_m2_refused_content_is_not_saved(enabled_a, shop_a):
    # given
    template = setup.template_copy(shop=shop_a, builtin_key="welcome")
    before = MailTemplateVariant.objects.get(template=template, language="en").body
    # when
    with pytest.raises(DomainError) as exc:
        setup.template_variant_save(
            template=template,
            language="en",
            subject="Hi",
            preheader="",
            body="<p>{{ settings.SECRET_KEY }}</p>",
        )
    # then
    assert exc.value.code == "template_rejected"
    assert MailTemplateVariant.objects.get(template=template, language="en").body == before


def test_m2_script_handlers_and_javascript_links_are_removed():
    # when
    out = _render(
        '<p onclick="steal()">Hi</p><script>alert(1)</script><style>p{}</style>'
        '<a href="javascript:alert(1)">x</a><img src="https://cdn.example/a.png" onerror="x()">'
        '<iframe src="https://evil.example"></iframe><!-- c -->'
    ).html
    # then
    for bad in ("<script", "alert(1)", "onclick", "onerror", "javascript:", "<iframe", "<!-- c"):
        assert bad not in out
    assert '<img src="https://cdn.example/a.png">' in out


def test_m2_merge_tag_values_are_escaped_and_only_plain_values_render():
    # given: a buyer name carrying markup, and an object where a value should be
    class Secret:
        first_name = "leaked"

        def __str__(self):
            return "leaked"

    # when
    out = _render(
        "<p>{{ buyer.first_name }} / {{ shop.name }}</p>",
        buyer={"first_name": '<script>x</script>"'},
        shop=Secret(),
    )
    # then
    assert "&lt;script&gt;" in out.html
    assert "<script>x" not in out.html
    assert "leaked" not in out.html


def test_m2_flat_and_nested_context_keys_both_work():
    out = _render("<p>{{ coins.balance }} {{ buyer.first_name }}</p>", **{"coins.balance": 1200})
    assert "1200 Ana" in out.html


def test_m7_subject_is_one_line_no_header_injection():
    # when
    out = _render("<p>x</p>", subject="Sale\r\nBcc: all@example.org {{ buyer.first_name }}")
    # then
    assert "\n" not in out.subject
    assert "\r" not in out.subject
    assert out.subject == "Sale Bcc: all@example.org Ana"


def test_m7_footer_and_unsubscribe_link_are_always_in_the_message(enabled_a, shop_a):
    # given: the seller's content tries to hide the footer
    setup.brand_save(
        shop=shop_a,
        sender_name="Shop A",
        primary_colour="#112233",
        background_colour="#ffffff",
        physical_address="1 Wensan Road, Hangzhou",
        service_phone="+86 571 8502 2088",
    )
    source = TemplateSource(subject="Hi", body="<p>only this</p>", shop=shop_a)
    # when
    out = render(source, context=CTX, language="en")
    # then
    assert out.footer_complete
    for text in ("1 Wensan Road, Hangzhou", "+86 571 8502 2088", "https://sc.example/u/abc"):
        assert text in out.html
        assert text in out.text
    assert "Unsubscribe" in out.html


def test_m7_a_context_without_unsubscribe_link_is_refused():
    with pytest.raises(TemplateRejected):
        render(TemplateSource(subject="Hi", body="<p>x</p>"), context={}, language="en")


def test_m7_incomplete_footer_is_reported():
    out = _render("<p>x</p>")
    assert out.footer_complete is False


# --- the 12 built-ins -------------------------------------------------------------------------


def test_m2_twelve_builtins_named_in_the_spec():
    assert list(builtin_templates.BUILTINS) == [
        "seasonal_promotion",
        "restock_alert",
        "logistics_update",
        "abandoned_cart",
        "welcome",
        "win_back",
        "new_arrivals",
        "coins_expiring",
        "review_request",
        "flash_deal",
        "thank_you",
        "anniversary",
    ]


@pytest.mark.parametrize("key", list(builtin_templates.BUILTINS))
def test_m2_each_builtin_has_every_language_and_renders_clean(key):
    # given
    variants = builtin_templates.variants(key)
    # then: every language, valid content, one button, no merge tag left over
    assert set(variants) == set(TemplateLanguage.values)
    assert {"en", "es", "fr", "ru", "pt"} <= set(variants)
    for lang, (subject, preheader, body) in variants.items():
        assert validate_content(subject, preheader, body) == []
        out = render(
            TemplateSource(subject=subject, preheader=preheader, body=body, language=lang),
            context=sample_context(),
            language=lang,
        )
        assert "{{" not in out.html
        assert "{{" not in out.text
        assert "{{" not in out.subject
        assert out.html.count('class="sc-button"') == 1
        assert f'<html lang="{lang}">' in out.html
        assert builtin_templates.FOOTER[lang]["unsubscribe"] in out.text


def test_m5_template_renders_the_language_asked_else_english(enabled_a, shop_a):
    # given
    template = setup.template_copy(shop=shop_a, builtin_key="coins_expiring")
    template.variants.filter(language="ru").delete()
    ctx = sample_context(shop_a)
    # when
    fr = render(template, context=ctx, language="fr")
    ru = render(template, context=ctx, language="ru")
    # then
    assert fr.language == "fr"
    assert "pièces" in fr.subject
    assert ru.language == "en"
    assert "coins expire" in ru.subject


def test_m2_saved_content_is_stored_sanitised(enabled_a, shop_a):
    template = setup.template_copy(shop=shop_a, builtin_key="welcome")
    variant = setup.template_variant_save(
        template=template,
        language="es",
        subject="Hola {{ buyer.first_name }}",
        preheader="",
        body='<p>Hola</p><script>x()</script><a class="sc-button" href="{{ shop.url }}">Ir</a>',
    )
    assert "<script" not in variant.body
    assert 'href="{{ shop.url }}"' in variant.body


def test_m2_every_merge_tag_has_a_sample():
    assert all(sample for _label, sample in MERGE_TAGS.values())
