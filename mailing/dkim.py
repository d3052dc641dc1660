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
message for a 2048-bit key) and parses the PEM key for every message. ``KeySigner`` holds the
decrypted, parsed key for one batch (built once per domain per batch, never logged) and signs
the way dkimpy does — its parsing, relaxed canonicalisation (as regular expressions over the
whole body), tags, folding and header hash, reusing dkimpy's ``fold``, ``RE_BTAG`` and
``select_headers`` — with the final RSASSA-PKCS1-v1_5 step done by ``cryptography`` (OpenSSL)
over the SHA-256 digest. RSASSA-PKCS1-v1_5 is deterministic, so the result is byte for byte
dkimpy's own signature (tests/mailing/test_setup_dkim.py), and dkimpy verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
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


_H_TAG = b" : ".join(SIGNED_HEADERS)


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


# dkimpy's parsing of a message (``dkim.rfc822_parse``) and its relaxed canonicalisation
# (``dkim.canonicalization.Relaxed``), as regular expressions over the whole body.
_LINE_END = re.compile(rb"\r?\n")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_NAME = re.compile(rb"([\x21-\x7e]+?):")
_TRAILING_WSP = re.compile(rb"[\t ]+\r\n")
_WSP = re.compile(rb"[\t ]+")
# The runs _WSP.sub(b" ") changes: a tab, or a space with more after it (a lone space stays).
_WSP_RUN = re.compile(rb"(?:\t| (?=[\t ]))[\t ]*")
_SIG_NAME = b"DKIM-Signature"


def _parse(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """``dkim.rfc822_parse``: the (name, value) header fields and the CRLF-separated body."""
    if message.startswith((b"\n", b"\r\n")):
        head, body = b"", _LINE_END.split(message, 1)[1]
    else:
        end = _HEADER_END.search(message)
        head, body = (
            (message, b"") if end is None else (message[: end.start()], message[end.end() :])
        )
    headers: list[list[bytes]] = []
    for line in _LINE_END.split(head) if head else ():
        if line[:1] in (b"\t", b" "):
            if not headers:
                raise DkimError("The message starts with a continuation line.")
            headers[-1][1] += line + b"\r\n"
            continue
        m = _HEADER_NAME.match(line)
        if m is not None:
            headers.append([m.group(1), line[m.end(0) :] + b"\r\n"])
        elif not line.startswith(b"From "):
            raise DkimError("Unexpected characters in a header line.")
    if body.count(b"\n") != body.count(b"\r\n"):
        body = _LINE_END.sub(b"\r\n", body)
    return [(n, v) for n, v in headers], body


def _strip_trailing_lines(content: bytes) -> bytes:
    """``dkim.canonicalization.strip_trailing_lines``: the body ends with one CRLF, no empty
    lines after it."""
    n = end = len(content)
    while end >= 2 and content[end - 2 : end] == b"\r\n":
        end -= 2
    return content + b"\r\n" if end == n else content[: end + 2]


def _relaxed_body(body: bytes) -> bytes:
    """``dkim.canonicalization.Relaxed.canonicalize_body``. (Each step only when the body has
    what it changes: a search for a few bytes costs far less than a substitution.)"""
    if b" \r\n" in body or b"\t\r\n" in body:
        body = _TRAILING_WSP.sub(b"\r\n", body)
    if b"\t" in body or b"  " in body:
        body = _WSP_RUN.sub(b" ", body)
    body = _strip_trailing_lines(body)
    return b"" if body == b"\r\n" else body


def _relaxed_header(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    if b"\n" in value[:-1] or b"\t" in value or b"  " in value:
        value = _WSP.sub(b" ", _LINE_END.sub(b"", value))
    return name.lower().rstrip(), value.strip() + b"\r\n"


class KeySigner:
    """Signs for one sender domain with its key decrypted and parsed once (one per batch)."""

    __slots__ = ("_domain", "_key", "_selector")

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

    def __repr__(self) -> str:  # never the key
        return f"KeySigner(d={self._domain.decode()}, s={self._selector.decode()})"

    def sign(self, message_bytes: bytes) -> bytes:
        """The message with its ``DKIM-Signature`` in front: the bytes ``dkim.sign`` (dkimpy)
        returns for it with this key, relaxed/relaxed and ``SIGNED_HEADERS``."""
        headers, body = _parse(message_bytes)
        bodyhash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest())
        fields = [
            (b"v", b"1"),
            (b"a", b"rsa-sha256"),
            (b"c", b"relaxed/relaxed"),
            (b"d", self._domain),
            (b"i", b"@" + self._domain),
            (b"q", b"dns/txt"),
            (b"s", self._selector),
            (b"t", str(int(time.time())).encode("ascii")),
            (b"h", _H_TAG),
            (b"bh", bodyhash),
            # b= folds onto its own line (as dkimpy's placeholder), so adding it later does not
            # change the whitespace of the tags before it
            (b"b", b"0" * 60),
        ]
        value = dkimpy.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(_SIG_NAME))
        value = dkimpy.RE_BTAG.sub(b"\\1", value)
        h = hashlib.sha256()
        for name, field_value in dkimpy.select_headers(headers, SIGNED_HEADERS):
            cname, cvalue = _relaxed_header(name, field_value)
            h.update(cname + b":" + cvalue)
        cname, cvalue = _relaxed_header(_SIG_NAME, b" " + value)
        h.update(cname + b":" + cvalue.rstrip())  # the signature's own field: no CRLF
        try:
            signature = self._key.sign(h.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        except ValueError as exc:
            raise DkimError(str(exc)) from exc
        fields[-1] = (b"b", base64.b64encode(signature))
        value = b"; ".join(b"=".join(f) for f in fields) + b"\r\n"
        return _SIG_NAME + b": " + dkimpy.fold(value, namelen=len(_SIG_NAME)) + message_bytes


def sign(message_bytes: bytes, *, domain: SenderDomain) -> bytes:
    """The message with a ``DKIM-Signature`` (d=``domain.domain``, s=``domain.dkim_selector``)
    prepended. Raises ``DkimError`` when it cannot be signed. (A batch keeps one ``KeySigner``.)"""
    return KeySigner(domain).sign(message_bytes)
