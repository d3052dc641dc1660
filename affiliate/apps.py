from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def home_tile(request, shop):
    """The programme tile. Without a programme: the store-level check (A-2). With one: whether
    it runs, the last 30 days' attributed orders, their promoters and commission, and a
    warning when commissions wait for the shop balance (A-7). At most two queries
    (``selectors.tile_summary``)."""
    from django.urls import reverse
    from django.utils.translation import gettext, ngettext

    from core.checks import all_passed
    from core.tiles import SEVERITY_WARNING, Attention

    from .selectors import programme_checks, tile_summary

    checks = programme_checks(shop=shop)
    summary = tile_summary(shop=shop)
    attention = []
    if summary is not None and summary.blocked:
        # SPEC A-7: commissions due for settlement wait until the balance covers them.
        attention.append(
            Attention(
                severity=SEVERITY_WARNING,
                text=ngettext(
                    "%(n)s affiliate commission waits for your balance to cover it.",
                    "%(n)s affiliate commissions wait for your balance to cover them.",
                    summary.blocked,
                )
                % {"n": summary.blocked},
                url=reverse("shops:balance"),
                action=gettext("Top up your balance"),
                weight=float(summary.blocked),
            )
        )
    return {
        "title": gettext("Affiliate"),
        "icon": "bi-people",
        "eligible": all_passed(checks),
        "failed": sum(1 for c in checks if c.passed is False),
        "url": reverse("affiliate:index"),
        "attention": attention,
        "summary": summary,
        "report_url": reverse("affiliate:report"),
    }


class AffiliateConfig(AppConfig):
    name = "affiliate"
    verbose_name = _("Affiliate")

    def ready(self):
        from core import tiles, uploads

        from .consumers import register
        from .models import Promoter

        tiles.register("affiliate", order=20, context=home_tile, template="affiliate/_tile.html")
        # A promoter's A-1 documents (private uploads owned by the promoter): through
        # /files/<id>/ only platform staff allowed to view promoters read them; the promoter
        # reads its own through the portal (affiliate.portal.views.document_file).
        uploads.register_access(
            Promoter,
            lambda request, promoter: (
                request.user.is_staff and request.user.has_perm("affiliate.view_promoter")
            ),
        )
        register()  # order events: attribution and the commission lifecycle (SPEC)
