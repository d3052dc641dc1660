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
)
from .checkout import redemption_link, redemption_place
from .expiry import lots_expire
from .issuance import ON_COMPLETED, ON_PAID, grant_issue, order_grants_apply
from .reconcile import ledger_reconcile
from .refunds import order_refund_apply

__all__ = [
    "ON_COMPLETED",
    "ON_PAID",
    "account_open",
    "account_pause",
    "account_resume",
    "coin_id_for",
    "fund_top_up",
    "grant_issue",
    "ledger_reconcile",
    "lots_expire",
    "order_grants_apply",
    "order_refund_apply",
    "product_deduction_set",
    "redemption_link",
    "redemption_place",
    "rule_create",
    "rule_stop",
]
