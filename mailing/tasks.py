"""Beat work of the mailing module (DESIGN §4): thin, each calls one service, safe to run twice."""

from celery import shared_task

from .services import setup


@shared_task(acks_late=True)
def sender_domains_reverify_task() -> int:
    """Every quarter of an hour (M-2, M-10): DNS re-checks of the own sender domains that are
    due. Returns how many were checked."""
    return setup.domains_reverify()
