"""Background work of the mailing module (DESIGN §4): thin tasks taking ids, each calling one
service, safe to run twice."""

from celery import shared_task

from .services import dispatch, setup


@shared_task(acks_late=True)
def sender_domains_reverify_task() -> int:
    """Every quarter of an hour (M-2, M-10): DNS re-checks of the own sender domains that are
    due. Returns how many were checked."""
    return setup.domains_reverify()


@shared_task(acks_late=True)
def double_opt_in_send_task(consent_id: int, token: str) -> bool:
    """SPEC M-3: send the double opt-in confirmation mail. Sending twice only repeats the
    same link (the nonce is unchanged)."""
    from .services.doi_mail import confirmation_send

    return confirmation_send(consent_id=consent_id, token=token)


@shared_task(acks_late=True)
def contact_import_task(import_id: int) -> str:
    """SPEC M-13: validate, or write, one CSV import (claimed by a conditional update; a second
    run of a finished step does nothing). Returns the import's status."""
    from .services.imports import contact_import_run

    return contact_import_run(import_id=import_id)


@shared_task(acks_late=True)
def campaign_materialize_task(campaign_id: int) -> int:
    """SPEC M-5: stream a confirmed campaign's recipients into message rows, then send."""
    written = dispatch.campaign_materialize(campaign_id=campaign_id)
    dispatch_batch_task.delay(campaign_id)
    return written


@shared_task(acks_late=True)
def dispatch_batch_task(campaign_id: int) -> dict:
    """One batch of a campaign's due messages (claim → send → record). A full batch asks for
    the next one; the beat tick picks up whatever is due later."""
    result = dispatch.batch_send(campaign_id=campaign_id)
    # A batch whose rows were all skipped (suppressed since confirmation) claimed nothing but
    # may have more due behind them.
    moved = result.claimed or result.skipped
    if moved and result.claimed == result.sent + result.failed + result.retried:
        dispatch_batch_task.delay(campaign_id)
    return {
        "claimed": result.claimed,
        "sent": result.sent,
        "failed": result.failed,
        "skipped": result.skipped,
    }


@shared_task(acks_late=True)
def dispatch_tick_task() -> int:
    """Every minute: recover dead workers' claims, decide due A/B tests, and start a batch for
    each campaign with messages due (scheduled local times, retries, the next quota day)."""
    dispatch.claims_recover()
    for campaign_id in dispatch.ab_due():
        dispatch.ab_decide(campaign_id=campaign_id)
    # Campaigns left with nothing to send (their last rows recovered as unknown, skipped, …).
    dispatch.campaigns_finish()
    due = dispatch.campaigns_due()
    for campaign_id in due:
        dispatch_batch_task.delay(campaign_id)
    return len(due)


@shared_task(acks_late=True)
def health_evaluate_task() -> int:
    """Daily just after midnight (platform zone): yesterday's rates; 3 breach days in a row
    pause a shop's sending (SPEC M-12)."""
    from .services import health

    return health.health_evaluate()


@shared_task(acks_late=True)
def statements_close_task() -> int:
    """Daily: last month's statements, charged to the shop balances (SPEC M-9); a statement the
    balance could not cover is retried."""
    from .services import billing

    return billing.statements_close()


@shared_task(acks_late=True)
def double_opt_in_request_awaiting_task(shop_id: int) -> int:
    """SPEC M-3: ask every buyer of the shop awaiting double opt-in to confirm (a request is
    not repeated while its link still works, so a second run asks nobody twice)."""
    from shops.models import Shop

    from .services.audience import double_opt_in_request_awaiting

    shop = Shop.objects.filter(pk=shop_id).first()
    return double_opt_in_request_awaiting(shop=shop) if shop is not None else 0


@shared_task(acks_late=True)
def contact_imports_resume_task() -> int:
    """Beat (DESIGN §4): imports whose worker died are queued again, within minutes."""
    from .services.imports import contact_imports_resume

    return contact_imports_resume()
