"""DKIM for every message (SPEC M-2 a, M-11; RFC 6376 with dkimpy).

A 2048-bit RSA key pair per sender domain: ``generate_key_pair()`` when the domain is created,
the private key stored encrypted (``integrations.services.encrypt_secret``: Fernet under a key
derived from ``SECRET_KEY``), the public key published by the seller (own subdomain) or the
platform (default domain) as ``<selector>._domainkey.<domain>  TXT  "v=DKIM1; k=rsa; p=…"``.

``sign(message_bytes, domain=sender_domain)`` returns the message with a ``DKIM-Signature``
header in front. The signed headers include ``List-Unsubscribe`` and ``List-Unsubscribe-Post``
(RFC 8058 §4 asks that both be covered), besides From/To/Subject/Date/Message-ID and the MIME
headers; relaxed/relaxed canonicalisation, rsa-sha256.

Speed: dkimpy computes the RSA signature with pure-Python big-number arithmetic (~30 ms a
message for a 2048-bit key). ``KeySigner`` keeps dkimpy for everything that decides what is
signed (canonicalisation, the body hash, the ``DKIM-Signature`` tags, folding, the header hash)
and only replaces the final RSASSA-PKCS1-v1_5 step with ``cryptography``'s (OpenSSL) over the same
SHA-256 digest — the same bytes, as RSASSA-PKCS1-v1_5 is deterministic. A ``KeySigner`` holds the
decrypted, parsed key in memory for one batch (built once per domain per batch, never logged).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import dkim as dkimpy
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

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


class _OpenSslDKIM(dkimpy.DKIM):
    """dkimpy's signer whose RSA step is OpenSSL's: ``gen_header`` is dkimpy's (1.1) with only
    ``RSASSA_PKCS1_v1_5_sign(h, pk)`` replaced by ``key.sign(h.digest(), PKCS1v15, SHA-256)``."""

    def __init__(self, message: bytes, key: rsa.RSAPrivateKey) -> None:
        super().__init__(message, signature_algorithm=b"rsa-sha256", linesep=b"\r\n")
        self._key = key

    def gen_header(self, fields, include_headers, canon_policy, header_name, pk, standardize=False):
        header_value = b"; ".join(b"=".join(x) for x in fields)
        header_value = dkimpy.fold(header_value, namelen=len(header_name), linesep=b"\r\n")
        header_value = dkimpy.RE_BTAG.sub(b"\\1", header_value)
        header = (header_name, b" " + header_value)
        h = dkimpy.HashThrough(self.hasher(), self.debug_content)
        sig = dict(fields)
        headers = canon_policy.canonicalize_headers(self.headers)
        self.signed_headers = dkimpy.hash_headers(
            h, canon_policy, headers, include_headers, header, sig
        )
        signature = self._key.sign(h.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        idx = next(i for i in range(len(fields)) if fields[i][0] == b"b")
        fields[idx] = (b"b", base64.b64encode(signature))
        header_value = b"; ".join(b"=".join(x) for x in fields) + self.linesep
        return dkimpy.fold(header_value, namelen=len(header_name), linesep=self.linesep)


class KeySigner:
    """Signs for one sender domain with its key decrypted and parsed once (one per batch)."""

    __slots__ = ("_domain", "_key", "_pem", "_selector")

    def __init__(self, domain: SenderDomain) -> None:
        self._selector = domain.dkim_selector.encode("ascii")
        self._domain = domain.domain.encode("ascii")
        pem = decrypt_secret(domain.dkim_private_key_encrypted).encode()
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise DkimError("The domain's DKIM private key cannot be read.") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise DkimError("The domain's DKIM key is not an RSA key.")
        self._key = key
        self._pem = pem  # dkimpy's sign() parses it (cheap) before gen_header signs with _key

    def __repr__(self) -> str:  # never the key
        return f"KeySigner(d={self._domain.decode()}, s={self._selector.decode()})"

    def sign(self, message_bytes: bytes) -> bytes:
        try:
            signature = _OpenSslDKIM(message_bytes, self._key).sign(
                self._selector,
                self._domain,
                self._pem,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=list(SIGNED_HEADERS),
            )
        except (dkimpy.DKIMException, ValueError) as exc:
            raise DkimError(str(exc)) from exc
        return signature + message_bytes


def sign(message_bytes: bytes, *, domain: SenderDomain) -> bytes:
    """The message with a ``DKIM-Signature`` (d=``domain.domain``, s=``domain.dkim_selector``)
    prepended. Raises ``DkimError`` when it cannot be signed. (A batch keeps one ``KeySigner``.)"""
    return KeySigner(domain).sign(message_bytes)
