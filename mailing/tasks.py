"""Background work of the mailing audience (DESIGN §4): thin tasks taking ids, safe to run twice."""

from celery import shared_task


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
