from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def home_tile(request, shop):
    """The activities standing (two queries): the metrics breached at the shop's latest hourly
    evaluation (SPEC E-3; none before the first) and a certified carrier (E-2). The dashboard's
    needs-attention panel shows the live cancel-rate headroom."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from shops.selectors import usable_carriers

    from .selectors import latest_snapshot

    snapshot = latest_snapshot(shop=shop)
    breaches = len(snapshot.breaches) if snapshot is not None else 0
    failed = breaches + (0 if usable_carriers(shop=shop) else 1)
    return {
        "title": gettext("Activities"),
        "icon": "bi-lightning-charge",
        "eligible": failed == 0,
        "failed": failed,
        "url": reverse("activities:index"),
    }


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from core import tiles, uploads

        from .models import Appeal, PostMortem

        # SPEC E-7 evidence files: read in the shop that filed them, and by platform staff who
        # may view post-mortems / appeals (the admin review).
        def _access(perm):
            def check(request, owner):
                shop = getattr(request, "shop", None)
                if shop is not None and shop.pk == owner.shop_id:
                    return True
                return request.user.is_staff and request.user.has_perm(perm)

            return check

        uploads.register_access(PostMortem, _access("activities.view_postmortem"))
        uploads.register_access(Appeal, _access("activities.view_appeal"))

        from .consumers import register

        tiles.register("activities", order=40, context=home_tile, template="activities/_tile.html")
        register()  # order events: activity orders for the E-6 check and review report
