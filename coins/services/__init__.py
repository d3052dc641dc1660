"""Writes of the coin module (DESIGN §2), by topic; import them from here."""

from .accounts import (
    account_open,
    account_pause,
    account_resume,
    coin_id_for,
    fund_top_up,
    product_deduction_set,
    rule_create,
    rule_stop,
    rule_update,
)
from .budget import ceiling_set, month_issued, month_of
from .checkout import redemption_link, redemption_place, redemptions_place
from .expiry import lots_expire
from .grade import grade_compute, grades_compute
from .issuance import ON_COMPLETED, ON_PAID, grant_issue, order_grants_apply
from .reconcile import ledger_reconcile
from .refunds import order_cancel_apply, order_refund_apply

__all__ = [
    "ON_COMPLETED",
    "ON_PAID",
    "account_open",
    "account_pause",
    "account_resume",
    "ceiling_set",
    "coin_id_for",
    "fund_top_up",
    "grade_compute",
    "grades_compute",
    "grant_issue",
    "ledger_reconcile",
    "lots_expire",
    "month_issued",
    "month_of",
    "order_cancel_apply",
    "order_grants_apply",
    "order_refund_apply",
    "product_deduction_set",
    "redemption_link",
    "redemption_place",
    "redemptions_place",
    "rule_create",
    "rule_stop",
    "rule_update",
]
