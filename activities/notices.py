"""The activities module's staff notifications, worded in the reader's language when shown
(``shops.notices``): ``WORDINGS[name](facts) -> (title, body)``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _exit(p: dict[str, Any]) -> tuple[str, str]:
    """SPEC E-5: the shop left every running activity; each metric with the orders behind it."""
    from . import rules
    from .services.evaluation import metric_label

    lines = [
        _(
            "%(metric)s: %(today)s%% now, %(yesterday)s%% yesterday (limit %(limit)s%%). "
            "Orders behind it: %(orders)s"
        )
        % {
            "metric": metric_label(m["metric"]),
            "today": m["today"],
            "yesterday": m["yesterday"],
            "limit": m["limit"],
            "orders": ", ".join(m["orders"][:20]) or "—",
        }
        for m in p["metrics"]
    ]
    # SPEC E-7: the registry's deadline when the shop was exited (notices stored before it
    # was recorded read today's).
    hours = p.get("postmortem_hours") or rules.postmortem_hours()
    return _("Your shop left every running activity"), _(
        "The same metric was above its limit at the end of yesterday and again now, so "
        "your SKUs have left the activity pages (natural search is unaffected).\n%(lines)s"
        "\nFile a post-mortem within %(hours)s hours to re-enrol later."
    ) % {"lines": "\n".join(lines), "hours": hours}


def _findings(p: dict[str, Any]) -> tuple[str, str]:
    """SPEC E-6: what the 15-minute consistency check found in the shop's activity orders."""
    from activities.models import ConsistencyKind

    lines = []
    for f in p["findings"]:
        line = _("Order %(order)s%(sku)s: %(kind)s") % {
            "order": f["order"],
            "sku": f" · {f['sku']}" if f.get("sku") else "",
            "kind": ConsistencyKind(f["kind"]).label,
        }
        if f.get("expected") or f.get("found"):
            line += " — " + _("expected %(expected)s, found %(found)s") % {
                "expected": f.get("expected") or "—",
                "found": f.get("found") or "—",
            }
        lines.append(line)
    if p.get("more"):
        lines.append(_("… and %(count)d more.") % {"count": p["more"]})
    count = p["count"]
    title = ngettext(
        "%(count)d finding in your activity orders",
        "%(count)d findings in your activity orders",
        count,
    ) % {"count": count}
    return title, _(
        "The 15-minute check compared your new activity orders with the enrolments "
        "(activity price, activity stock, the activity's dates):\n%(lines)s\n"
        "Check the SKUs' activity price and stock; the checks page lists every "
        "finding."
    ) % {"lines": "\n".join(lines)}


def _decision(p: dict[str, Any]) -> tuple[str, str]:
    """SPEC E-7/E-8: the platform's decision on a post-mortem or an appeal, with its reason."""
    titles = {
        "postmortem_approved": _("Your post-mortem was approved"),
        "postmortem_rejected": _("Your post-mortem was rejected: file a revised one"),
        "postmortem_reopened": _("You may file the post-mortem again"),
        "appeal_upheld": _("Your appeal was upheld: the removal no longer counts"),
        "appeal_dismissed": _("Your appeal was dismissed"),
    }
    body = _("Reason given by the platform: %(reason)s") % {"reason": p["reason"]}
    if p.get("due"):
        body += "\n" + _("File it by %(due)s (China Standard Time).") % {"due": p["due"]}
    return titles[p["decision"]], body


WORDINGS = {"exit": _exit, "findings": _findings, "decision": _decision}
