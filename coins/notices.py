"""The coins module's staff notifications, worded in the reader's language when shown
(``shops.notices``): ``WORDINGS[name](facts) -> (title, body)``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def _ceiling_reached(p: dict[str, Any]) -> tuple[str, str]:
    """C-11 budget guardrail: issuance paused for the month."""
    return _("Coin issuance paused: the monthly ceiling is reached"), _(
        "Your shop has issued %(issued)s of its %(ceiling)s-coin monthly ceiling. No new "
        "coins are granted until next month or until you raise the ceiling; buyers can "
        "still spend the coins they hold."
    ) % {"issued": p["issued"], "ceiling": p["ceiling"]}


def _fund_low(p: dict[str, Any]) -> tuple[str, str]:
    """C-5/C-7: a grant the coin fund could not cover."""
    return _("Coins not issued: the coin fund is too low"), _(
        "Rule “%(rule)s” could not give %(coins)s coins for order %(order)s. Top up "
        "the coin fund from the shop balance."
    ) % {"rule": p["rule"], "coins": p["coins"], "order": p["order"]}


def _rule_budget_spent(p: dict[str, Any]) -> tuple[str, str]:
    """C-7: a rule stopped because its budget cannot cover another grant."""
    return _("Coin rule stopped: its budget is spent"), _(
        "Rule “%(rule)s” has granted %(granted)s of its %(budget)s-coin budget; what is left "
        "cannot cover another grant, so it has stopped. Coins it granted stay with buyers. To "
        "keep giving coins, create a new rule with a new budget."
    ) % {"rule": p["rule"], "granted": p["granted"], "budget": p["budget"]}


WORDINGS = {
    "ceiling_reached": _ceiling_reached,
    "fund_low": _fund_low,
    "rule_budget_spent": _rule_budget_spent,
}


# --- shop balance ledger reasons (``shops.notices.Reason``) ---------------------------------


def _fund_top_up(p: dict[str, Any]) -> str:
    return _("Coin fund top-up")


REASONS = {"fund_top_up": _fund_top_up}
