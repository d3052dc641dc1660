"""Checks every serving process (web, worker, beat) makes before it starts."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def missing_secret_key_message() -> str:
    return (
        "No secret key: DJANGO_SECRET_KEY is unset or empty, DJANGO_DEBUG is off and there is "
        f"no key file at {settings.SECRET_KEY_FILE}. Set DJANGO_SECRET_KEY to a long random "
        "string (e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        ") before starting Seller Center; `make run` generates the key file for the local product."
    )


def require_secret_key() -> None:
    """DESIGN §7: a secret has no production default; a server without one fails loudly."""
    try:
        key = settings.SECRET_KEY  # Django itself refuses to hand out an empty key
    except ImproperlyConfigured:
        key = ""
    if not key:
        raise ImproperlyConfigured(missing_secret_key_message())
