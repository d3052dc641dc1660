"""The set-up models' constraints refuse violating rows with IntegrityError even when the
services are bypassed (the project's constraint meta-test finds each name here)."""

import pytest
from django.db import IntegrityError, transaction

from mailing.models import (
    BrandProfile,
    MailingAccount,
    MailTemplateVariant,
    SenderDomain,
)
from mailing.services import setup


def _violates(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def _domain_fields(row, **changes):
    fields = {
        f.name: getattr(row, f.name)
        for f in SenderDomain._meta.concrete_fields
        if f.name not in {"id", "created_at", "updated_at"}
    }
    fields.update(changes)
    return fields


def test_constraints_of_the_mailing_account(enabled_a, shop_a):
    # "MailingAccount.shop": one account per shop
    _violates(lambda: MailingAccount.objects.create(shop=shop_a, enabled_at=enabled_a.enabled_at))
    # "mailing_account_sender_kind"
    _violates(lambda: MailingAccount.objects.filter(pk=enabled_a.pk).update(sender_kind="other"))


def test_constraints_of_the_sender_domain(enabled_a, enabled_b, shop_a, shop_b):
    a = SenderDomain.objects.get(shop=shop_a)
    # "SenderDomain.domain": a domain belongs to one shop
    _violates(lambda: SenderDomain.objects.create(**_domain_fields(a, shop=shop_b, kind="own")))
    # "sender_domain_shop_kind": one default and one own domain per shop
    _violates(lambda: SenderDomain.objects.create(**_domain_fields(a, domain="x.brand-a.com")))
    # "sender_domain_kind_valid"
    _violates(lambda: SenderDomain.objects.filter(pk=a.pk).update(kind="borrowed"))
    # "sender_domain_status_valid"
    _violates(lambda: SenderDomain.objects.filter(pk=a.pk).update(status="maybe"))


def test_constraints_of_the_brand_profile(enabled_a, shop_a):
    brand = BrandProfile.objects.get(shop=shop_a)
    # "BrandProfile.shop"
    _violates(lambda: BrandProfile.objects.create(shop=shop_a))
    # "brand_colours_hex"
    _violates(lambda: BrandProfile.objects.filter(pk=brand.pk).update(primary_colour="red"))
    _violates(lambda: BrandProfile.objects.filter(pk=brand.pk).update(background_colour="#12345"))


def test_constraints_of_template_variants(enabled_a, shop_a):
    template = setup.template_copy(shop=shop_a, builtin_key="welcome")
    # "mail_template_variant_language": one variant per language
    _violates(
        lambda: MailTemplateVariant.objects.create(
            template=template, language="en", subject="x", body="x"
        )
    )
    # "mail_template_variant_language_valid"
    _violates(
        lambda: MailTemplateVariant.objects.filter(template=template, language="en").update(
            language="de"
        )
    )
