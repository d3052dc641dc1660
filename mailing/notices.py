"""The mailing module's staff notifications, worded in the reader's language when shown
(``shops.notices``): ``WORDINGS[name](facts) -> (title, body)``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def _domain_failed(p: dict[str, Any]) -> tuple[str, str]:
    """M-2/M-10: a verified sender domain failed its DNS re-check (error 401 until fixed)."""
    return _("Sender domain %(domain)s failed its DNS check") % {"domain": p["domain"]}, _(
        "These records are missing or wrong: %(records)s. Marketing emails wait (error 401) "
        "until they are fixed; the sender domain page shows what to change."
    ) % {"records": ", ".join(p["records"])}


def _paused(p: dict[str, Any]) -> tuple[str, str]:
    """M-12: sending auto-paused after N breach days in a row, and what drove it."""
    body = _("Sending stopped after %(n)s days in a row above the limits (%(kinds)s).") % {
        "n": p["days"],
        "kinds": ", ".join(p["breaches"]),
    }
    if p.get("campaign"):
        body += " " + _("Most problems came from campaign “%(c)s” and addresses at %(d)s.") % {
            "c": p["campaign"],
            "d": p["domain"],
        }
    return _("Marketing emails paused"), body


WORDINGS = {"domain_failed": _domain_failed, "paused": _paused}


# --- shop balance ledger reasons (``shops.notices.Reason``) ---------------------------------


def _statement(p: dict[str, Any]) -> str:
    """M-9: the monthly statement charged to the shop balance."""
    return _("Marketing email %(month)s: %(messages)s messages") % {
        "month": p["month"],
        "messages": p["messages"],
    }


REASONS = {"statement": _statement}
