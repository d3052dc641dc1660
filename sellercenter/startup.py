"""Checks every serving process (web, worker, beat) makes before it starts."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_secret_key() -> None:
    """DESIGN §7: a secret has no production default; a server without one fails loudly."""
    try:
        key = settings.SECRET_KEY  # Django itself refuses to hand out an empty key
    except ImproperlyConfigured:
        key = ""
    if not key:
        raise ImproperlyConfigured(
            "Set the DJANGO_SECRET_KEY environment variable (a long random string) "
            "before starting Seller Center with DJANGO_DEBUG off."
        )
