from decimal import Decimal

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The store-rating check is "about to fail" within this much of its minimum.
STORE_RATING_MARGIN = Decimal("0.10")


def home_tile(request, shop):
    """The marketing-email tile (two queries: ``selectors_tile.tile_state`` and, before
    enabling, the M-1 GMV). Before enabling: the eligibility checks, and a warning when the
    store rating passes by less than ``STORE_RATING_MARGIN``. Enabled: the set-up steps still
    missing (M-2), campaigns sending, scheduled or paused, the last sent campaign's delivery
    rate, and the sending health (M-12): an auto-pause is critical, breach days a warning."""
    from django.urls import reverse
    from django.utils.translation import gettext, ngettext

    from core.checks import all_passed
    from core.tiles import SEVERITY_CRITICAL, SEVERITY_NOTICE, SEVERITY_WARNING, Attention

    from . import rules
    from .selectors import eligibility_checks
    from .selectors_tile import tile_state

    state = tile_state(shop=shop)
    attention: list[Attention] = []
    ctx: dict = {
        "title": gettext("Marketing emails"),
        "icon": "bi-envelope",
        "url": reverse("mailing:index"),
        "attention": attention,
        "state": state,
    }
    if not state.enabled:
        checks = eligibility_checks(shop=shop, violations=state.violations)
        minimum = rules.min_store_rating()
        if minimum <= shop.store_rating < minimum + STORE_RATING_MARGIN:
            attention.append(
                Attention(
                    severity=SEVERITY_WARNING,
                    text=gettext(
                        "Your store rating is %(rating)s, just above the %(min)s marketing "
                        "emails need."
                    )
                    % {"rating": f"{shop.store_rating:.2f}", "min": f"{minimum:.2f}"},
                    url=reverse("mailing:index"),
                    action=gettext("See email checks"),
                    weight=float(STORE_RATING_MARGIN - (shop.store_rating - minimum)),
                )
            )
        ctx["eligible"] = all_passed(checks)
        ctx["failed"] = sum(1 for c in checks if c.passed is False)
        return ctx
    steps = {
        "domain": (gettext("verify the sender domain"), reverse("mailing:domain")),
        "brand": (gettext("complete the brand profile"), reverse("mailing:brand")),
        "template": (gettext("add a first template"), reverse("mailing:templates")),
    }
    missing = [steps[k] for k in state.setup_missing]
    ctx["steps"] = missing
    health_url = reverse("mailing:health")
    if state.pause_started_at is not None:
        attention.append(
            Attention(
                severity=SEVERITY_CRITICAL,
                text=gettext(
                    "Marketing emails are paused: sending health was over the limits %(n)s "
                    "days in a row."
                )
                % {"n": rules.pause_after_days()},
                url=health_url,
                action=gettext("See what drove it"),
            )
        )
    elif state.breach_days:
        attention.append(
            Attention(
                severity=SEVERITY_WARNING,
                text=ngettext(
                    "Email sending health was over a limit on %(n)s of the last %(w)s days; "
                    "%(w)s days in a row pause sending.",
                    "Email sending health was over a limit on %(n)s of the last %(w)s days; "
                    "%(w)s days in a row pause sending.",
                    state.breach_days,
                )
                % {"n": state.breach_days, "w": state.window},
                url=health_url,
                action=gettext("See sending health"),
                weight=state.breach_days / max(1, state.window),
            )
        )
    if "domain" in state.setup_missing and state.domain_status == "failed":
        attention.append(
            Attention(
                severity=SEVERITY_CRITICAL,
                text=gettext(
                    "The DNS records of your sender domain %(domain)s are missing or wrong: "
                    "marketing emails wait until they are fixed."
                )
                % {"domain": state.domain},
                url=reverse("mailing:domain"),
                action=gettext("Fix the DNS records"),
            )
        )
    elif state.setup_missing:
        attention.append(
            Attention(
                severity=SEVERITY_NOTICE,
                text=ngettext(
                    "%(n)s set-up step left before your first marketing email.",
                    "%(n)s set-up steps left before your first marketing email.",
                    len(state.setup_missing),
                )
                % {"n": len(state.setup_missing)},
                url=missing[0][1],
                action=gettext("Finish the set-up"),
            )
        )
    if state.delivery_below:
        attention.append(
            Attention(
                severity=SEVERITY_WARNING,
                text=gettext(
                    "Only %(rate)s%% of campaign “%(name)s” was delivered (at least %(min)s%% "
                    "keeps sending healthy)."
                )
                % {
                    "rate": f"{state.delivery_rate:.1f}",
                    "name": state.last_campaign,
                    "min": rules.delivery_rate_min(),
                },
                url=reverse("mailing:campaign_detail", args=[state.last_campaign_id]),
                action=gettext("See the send log"),
            )
        )
    if state.last_campaign_id is not None:
        ctx["last_url"] = reverse("mailing:campaign_detail", args=[state.last_campaign_id])
    ctx["campaigns_url"] = reverse("mailing:campaigns")
    ctx["health_url"] = health_url
    return ctx


class MailingConfig(AppConfig):
    name = "mailing"
    verbose_name = _("Mailing")

    def ready(self):
        from core import tiles

        from .consumers import register

        tiles.register("mailing", order=30, context=home_tile, template="mailing/_tile.html")
        register()  # order events: orders within 7 days of a click (SPEC M-11)
