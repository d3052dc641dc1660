"""Messages to promoters in their portal (``PromoterNotice``), stored as a kind and its facts
and worded when shown, in the language of the page (the promoter's): a promoter reading the
portal in Chinese reads its notices in Chinese, whatever language the job that wrote them ran
in. ``text`` keeps the English wording (the admin, logs, notices written before the facts were
kept).

Facts are plain values: numbers, codes, order numbers, amounts in minor units with their
currency, a hold's rule and details (its reason is worded by ``fraud.reason_text``), and free
text an admin typed (kept as typed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from core.money import Money

from .models import PromoterNotice


def _hold_reason(params: dict[str, Any]) -> str:
    from .fraud import reason_text
    from .models import CommissionHold

    return reason_text(CommissionHold(rule=params["rule"], details=params.get("details") or {}))


def _amount(params: dict[str, Any]) -> str:
    return Money(params["amount_minor"], params["currency"]).format()


def _word(kind: str, p: dict[str, Any]) -> str:
    if kind == "approved":
        return _(
            "Your documents are approved. Create your PID and tracking links; your account is in "
            "trial (one PID, no payout) until your first attributed order is paid."
        )
    if kind == "rejected":
        return _("Your documents were not approved: %(reason)s") % {"reason": p["reason"]}
    if kind == "pid_frozen":
        return _(
            "PID %(pid)s had no valid click for %(days)s days and is frozen: its clicks are "
            "recorded but earn nothing. Reactivate it in your PID list."
        ) % {"pid": p["pid"], "days": p["days"]}
    if kind == "pid_idle":
        return _(
            "PID %(pid)s has had no valid click for %(days)s days; it will be frozen in "
            "%(left)s days unless it gets a click."
        ) % {"pid": p["pid"], "days": p["days"], "left": p["left"]}
    if kind == "hold":
        return _("The commission of order %(order)s is on hold for review: %(reason)s") % {
            "order": p["order"],
            "reason": _hold_reason(p),
        }
    if kind == "hold_released":
        return _("The hold of the commission of order %(order)s was released.") % {
            "order": p["order"]
        }
    if kind == "hold_confirmed":
        return _("The commission of order %(order)s was voided after review: %(reason)s") % {
            "order": p["order"],
            "reason": _hold_reason(p),
        }
    if kind == "payout_failed":
        return _(
            "Your payout of %(amount)s failed: %(reason)s. It is retried in the next batch."
        ) % {
            "amount": _amount(p),
            "reason": p["reason"],
        }
    if kind == "payout_paid":
        return _("Payout of %(amount)s sent (batch %(batch)s).") % {
            "amount": _amount(p),
            "batch": p["batch"],
        }
    raise KeyError(kind)


def notice_text(notice: PromoterNotice) -> str:
    """The notice in the active language; the stored English text when its facts are missing
    (a notice written before they were kept)."""
    try:
        return _word(notice.kind, notice.params)
    except (KeyError, TypeError, ValueError):
        return notice.text


def notice_send(
    *,
    promoter_id: int,
    kind: str,
    params: dict[str, Any],
    created_at: datetime,
    pid_id: int | None = None,
) -> PromoterNotice:
    """Store a notice of ``kind`` with its facts (and its English wording)."""
    with translation.override("en"):
        text = _word(kind, params)[:500]
    return PromoterNotice.objects.create(
        promoter_id=promoter_id,
        pid_id=pid_id,
        kind=kind,
        params=params,
        text=text,
        created_at=created_at,
    )


# --- staff notifications of the shop (``shops.notices``: worded when shown) ----------------------


def _commissions_blocked(p: dict[str, Any]) -> tuple[str, str]:
    """A-6: commissions due for settlement that the shop balance cannot pay."""
    return _("Affiliate commissions wait for your balance"), _(
        "%(count)s affiliate commission(s) due for settlement (%(amount)s) cannot be paid "
        "from your balance. Top up your balance; they settle on the next hourly run."
    ) % {"count": p["count"], "amount": _amount(p)}


WORDINGS = {"commissions_blocked": _commissions_blocked}


# --- shop balance ledger reasons (``shops.notices.Reason``) ---------------------------------


def _commission(p: dict[str, Any]) -> str:
    """A-6: a commission settled from the shop balance."""
    return _("Affiliate commission, order %(order)s") % {"order": p["order"]}


def _commission_reversed(p: dict[str, Any]) -> str:
    """A-6: a settled commission given back after a refund."""
    return _("Affiliate commission reversed, order %(order)s") % {"order": p["order"]}


REASONS = {"commission": _commission, "commission_reversed": _commission_reversed}
