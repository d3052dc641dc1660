"""Every model in Django admin is named in the seller's language (DESIGN §5): its Meta declares a
translatable ``verbose_name`` and ``verbose_name_plural`` (Django's made-up defaults read
"Promoter entrys" or "Shop daily statss" and show in English in every language), and the zh_Hans
catalogue holds both, so the admin headings ("选择订单查看") are all Chinese."""

import re
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.db.models.options import Options
from django.utils.functional import Promise
from django.utils.translation import gettext, override

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ENTRY = re.compile(r'^(?:msgctxt "(.*)"\n)?msgid "(.*)"\nmsgstr "(.*)"$', re.M)


def _catalogue() -> dict[str, set[str]]:
    """msgid → its translations (one per context) in the project's zh_Hans catalogue."""
    entries: dict[str, set[str]] = {}
    for _context, msgid, msgstr in ENTRY.findall(CATALOGUE.read_text()):
        if msgid and msgstr:
            entries.setdefault(msgid, set()).add(msgstr)
    return entries


def _project_models() -> list[Options]:
    base = str(settings.BASE_DIR)
    return [
        model._meta
        for model in admin.site._registry
        if isinstance(model._meta, Options) and model.__module__.split(".")[0] != "django"
        if str(Path(model._meta.app_config.path)).startswith(base)
        and ".venv" not in model._meta.app_config.path
    ]


def test_every_admin_model_declares_its_names_for_translation():
    # given: the project's models registered in the admin
    metas = _project_models()
    assert len(metas) > 60, [m.label for m in metas]
    # then: each declares both names itself (Django's defaults are plain English text), lazily
    # translated so the admin shows them in the request's language
    undeclared = [
        m.label
        for m in metas
        if not {"verbose_name", "verbose_name_plural"} <= set(m.original_attrs)
        or not isinstance(m.verbose_name, Promise)
        or not isinstance(m.verbose_name_plural, Promise)
    ]
    assert undeclared == []


def test_every_admin_model_name_is_in_the_chinese_catalogue():
    # given: the zh_Hans catalogue and the project's admin models
    catalogue = _catalogue()
    missing = []
    for meta in _project_models():
        for name in (meta.verbose_name, meta.verbose_name_plural):
            with override(None):
                english = str(name)
            with override("zh-hans"):
                chinese = str(name)
            # then: the English name is a catalogue entry and the admin shows its translation
            if english not in catalogue or chinese not in catalogue[english]:
                missing.append((meta.label, english, chinese))
    assert missing == []


def test_admin_model_names_read_in_chinese_in_the_admin(admin_client):
    # given: a Chinese-speaking admin
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    # when: the admin index and the orders' list
    index = admin_client.get("/admin/", **zh).content.decode()
    orders = admin_client.get("/admin/orders/order/", **zh).content.decode()
    # then: the model names are Chinese, not Django's English defaults
    for chinese in ("推广者账目", "店铺每日数据", "订单明细", "佣金暂扣"):
        assert chinese in index
    for english in ("Promoter entrys", "Shop daily statss", "Skus", "Pids", ">Orders<"):
        assert english not in index
    with override("zh-hans"):
        assert gettext("Select %s to view") % "订单" in orders  # 选择订单查看
