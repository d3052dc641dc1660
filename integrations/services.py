"""Integrations: who may send signed requests, and their secrets (SPEC §0, DESIGN §1 floor 1).

The HMAC secret must be known in clear to check a signature, so it cannot be hashed; it is
stored encrypted with Fernet under a key derived from ``SECRET_KEY`` (and its
``SECRET_KEY_FALLBACKS``, so rotating Django's key does not lock senders out). A database dump
alone does not reveal any secret.

Rotation issues a new secret and keeps the previous one valid for
``SC_INTEGRATION_ROTATION_GRACE_HOURS`` (default 24 h) so the sender can switch without a gap.
Verifying a signed request: ``integrations.auth``.
"""

import base64
import functools
import secrets
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.crypto import salted_hmac

from core import clock
from core.errors import DomainError

from .models import Integration

# The salt of the Fernet key derivation. It still names ``orders``, where integrations began:
# changing it would make every stored secret unreadable.
_FERNET_SALT = "sellercenter.orders.integration-secret"


def rotation_grace() -> timedelta:
    return timedelta(hours=settings.SC_INTEGRATION_ROTATION_GRACE_HOURS)


def _fernet_for(key: str) -> Fernet:
    digest = salted_hmac(_FERNET_SALT, "fernet", secret=key, algorithm="sha256")
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(k) for k in keys])


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    return _decrypt(
        token, settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", []))
    )


@functools.lru_cache(maxsize=1024)
def _decrypt(token: str, secret_key: str, fallbacks: tuple[str, ...]) -> str:
    """``decrypt_secret``, remembered per token and key set: every signed request needs its
    integration's secret, and deriving the keys and checking the token cost more than the rest
    of the signature check. A rotated secret is another token; a changed key set another entry;
    a failure is not remembered."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # The operator's to fix, not the sender's: a server error (logged), not a refusal.
        raise ImproperlyConfigured(
            "An integration secret cannot be decrypted (was SECRET_KEY changed without keeping "
            "the old one in SECRET_KEY_FALLBACKS?)."
        ) from None


def _new_secret() -> str:
    return "scs_" + secrets.token_urlsafe(32)


def integration_create(*, name: str) -> tuple[Integration, str]:
    """Create an integration; returns it and its secret, which is shown this once."""
    name = name.strip()
    if not name:
        raise DomainError("An integration needs a name.", code="invalid_name")
    secret = _new_secret()
    integration = Integration.objects.create(
        name=name[:200],
        key_id="sck_" + secrets.token_hex(12),
        secret_encrypted=encrypt_secret(secret),
    )
    return integration, secret


@transaction.atomic
def integration_rotate(*, integration: Integration) -> str:
    """Issue a new secret; the current one stays valid for the grace period. Returns the new one."""
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    secret = _new_secret()
    now = clock.now()
    integration.previous_secret_encrypted = integration.secret_encrypted
    integration.previous_secret_expires_at = now + rotation_grace()
    integration.secret_encrypted = encrypt_secret(secret)
    integration.rotated_at = now
    integration.save(
        update_fields=[
            "previous_secret_encrypted",
            "previous_secret_expires_at",
            "secret_encrypted",
            "rotated_at",
            "updated_at",
        ]
    )
    return secret


def integration_set_active(*, integration: Integration, active: bool) -> Integration:
    Integration.objects.filter(pk=integration.pk).update(active=active, updated_at=clock.now())
    integration.active = active
    return integration
