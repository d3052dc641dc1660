"""Writes of the affiliate module (DESIGN §2), split by topic: ``programme`` (a shop's
programme and rates, A-2), ``promoters`` (promoters, PIDs, links, the freeze job; A-1, A-3),
``clicks`` (the click buffer and its flusher, A-4), ``commissions`` (attribution and the
commission lifecycle, A-5 … A-8)."""

from .commissions import (
    commissions_pre_issue,
    commissions_settle,
    order_attribute,
    order_event_apply,
    postback_receive,
)
from .onboarding import (
    document_upload,
    promoter_authenticate,
    promoter_password_set,
    promoter_reject,
    promoter_sign_up,
    promoter_submit,
)
from .payouts import payout_batch_create, payout_batch_mark_paid, payout_line_fail
from .programme import programme_disable, programme_enable, rate_delete, rate_set
from .promoters import (
    cent_minimum_set,
    link_create,
    pid_create,
    pid_reactivate,
    pids_freeze,
    promoter_approve,
    promoter_create,
)

__all__ = [
    "cent_minimum_set",
    "commissions_pre_issue",
    "commissions_settle",
    "document_upload",
    "link_create",
    "order_attribute",
    "order_event_apply",
    "payout_batch_create",
    "payout_batch_mark_paid",
    "payout_line_fail",
    "pid_create",
    "pid_reactivate",
    "pids_freeze",
    "postback_receive",
    "programme_disable",
    "programme_enable",
    "promoter_approve",
    "promoter_authenticate",
    "promoter_create",
    "promoter_password_set",
    "promoter_reject",
    "promoter_sign_up",
    "promoter_submit",
    "rate_delete",
    "rate_set",
]
