"""Background work of the mailing module (DESIGN §4): thin tasks taking ids, each calling one
service, safe to run twice."""

from celery import shared_task

from .services import setup


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
