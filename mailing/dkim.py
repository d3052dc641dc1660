"""DKIM for every message (SPEC M-2 a, M-11; RFC 6376 with dkimpy).

A 2048-bit RSA key pair per sender domain: ``generate_key_pair()`` when the domain is created,
the private key stored encrypted (``integrations.services.encrypt_secret``: Fernet under a key
derived from ``SECRET_KEY``), the public key published by the seller (own subdomain) or the
platform (default domain) as ``<selector>._domainkey.<domain>  TXT  "v=DKIM1; k=rsa; p=…"``.

``sign(message_bytes, domain=sender_domain)`` returns the message with a ``DKIM-Signature``
header in front. The signed headers include ``List-Unsubscribe`` and ``List-Unsubscribe-Post``
(RFC 8058 §4 asks that both be covered), besides From/To/Subject/Date/Message-ID and the MIME
headers; relaxed/relaxed canonicalisation, rsa-sha256.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import dkim as dkimpy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.services import decrypt_secret, encrypt_secret

if TYPE_CHECKING:
    from .models import SenderDomain

KEY_BITS = 2048

# What every signature covers (a header absent from a message is still named: it then proves
# the header was absent, so it cannot be added on the way).
SIGNED_HEADERS: tuple[bytes, ...] = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-id",
    b"feedback-id",
)


class DkimError(Exception):
    """The message could not be signed (malformed message or unreadable key)."""


def generate_key_pair() -> tuple[str, str]:
    """A new key pair: (private key PEM, PKCS#1, *encrypted* for storage; public key as the
    base64 DER SubjectPublicKeyInfo for the ``p=`` tag)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encrypt_secret(pem), base64.b64encode(public).decode()


def dns_txt_value(public_key_b64: str) -> str:
    """The TXT value to publish for a public key."""
    return f"v=DKIM1; k=rsa; p={public_key_b64}"


def sign(message_bytes: bytes, *, domain: SenderDomain) -> bytes:
    """The message with a ``DKIM-Signature`` (d=``domain.domain``, s=``domain.dkim_selector``)
    prepended. Raises ``DkimError`` when it cannot be signed."""
    private_pem = decrypt_secret(domain.dkim_private_key_encrypted).encode()
    try:
        signature = dkimpy.sign(
            message_bytes,
            selector=domain.dkim_selector.encode("ascii"),
            domain=domain.domain.encode("ascii"),
            privkey=private_pem,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
    except (dkimpy.DKIMException, ValueError) as exc:
        raise DkimError(str(exc)) from exc
    return signature + message_bytes
