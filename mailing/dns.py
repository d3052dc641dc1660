"""Sender-domain verification by real DNS look-ups (SPEC M-2 a, M-10), with dnspython.

The resolver asks ``settings.SC_MAILING_DNS_NAMESERVERS`` on ``SC_MAILING_DNS_PORT`` (the
system's resolvers when the list is empty), giving up after ``SC_MAILING_DNS_TIMEOUT`` seconds
per look-up: tests point it at their own authoritative server on loopback.

``check_records(domain)`` looks up the four records an own subdomain needs and returns one
``RecordCheck`` per record — what is expected, what was found, and what is wrong:

- ``verification``: ``_sellercenter.<domain> TXT "sellercenter-verification=<token>"``, the
  random per-shop token proving the seller controls the domain;
- ``spf``: exactly one ``v=spf1`` TXT at ``<domain>`` with ``include:<SC_MAILING_SPF_INCLUDE>``;
- ``dkim``: ``<selector>._domainkey.<domain> TXT "v=DKIM1; k=rsa; p=<public key>"`` with the
  platform-generated public key;
- ``dmarc``: exactly one ``v=DMARC1`` TXT with ``p=none|quarantine|reject`` at
  ``_dmarc.<domain>`` or, when there is none, at a parent domain's ``_dmarc`` (where the
  organisational domain's policy lives; Gmail and Yahoo accept it for a subdomain).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import dns.exception
import dns.name
import dns.resolver
from django.conf import settings
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import SenderDomain

VERIFICATION_PREFIX = "sellercenter-verification="
VERIFICATION_LABEL = "_sellercenter"
DMARC_POLICIES = ("none", "quarantine", "reject")

# The outcome of one look-up.
OK, MISSING, DNS_ERROR = "ok", "missing", "dns_error"


@dataclass
class RecordCheck:
    """One DNS record of a sender domain: where, what is expected, what was found."""

    code: str  # verification | spf | dkim | dmarc
    name: str
    type: str
    expected: str
    found: list[str] = field(default_factory=list)
    ok: bool = False
    problem: str = ""  # a code, see PROBLEMS; "" when ok
    where: str = ""  # the name the record was found at, when not ``name`` (DMARC of a parent)

    def as_dict(self) -> dict:
        return asdict(self)


def problem_text(code: str) -> str:
    """What is wrong, and how to fix it, for a problem code (translated at display time)."""
    texts = {
        "missing": _("No record found at this name. Add it at your DNS provider."),
        "dns_error": _(
            "The DNS look-up failed (time-out or server error). We try again on our own; "
            "check that your domain's name servers answer."
        ),
        "token_mismatch": _(
            "A record is there but does not carry your verification token. Replace its value "
            "with the expected one."
        ),
        "spf_multiple": _(
            "More than one SPF (v=spf1) record: receivers then ignore them all. Merge them into "
            "one record."
        ),
        "spf_include_missing": _(
            "Your SPF record does not include the platform's servers. Add the include shown in "
            "the expected value to it."
        ),
        "spf_missing": _("No SPF (v=spf1) record at your subdomain. Add the expected record."),
        "dkim_malformed": _(
            "The DKIM record is not a valid v=DKIM1 key record. Replace it with the expected "
            "value, in one piece."
        ),
        "dkim_key_mismatch": _(
            "The DKIM record holds another public key. Replace it with the expected value "
            "(copy it whole: a truncated key does not verify)."
        ),
        "dmarc_multiple": _(
            "More than one DMARC record: receivers then ignore them all. Keep only one."
        ),
        "dmarc_policy_invalid": _(
            "The DMARC record has no valid policy: it needs p=none, p=quarantine or p=reject."
        ),
    }
    return texts.get(code, code)


def _resolver() -> dns.resolver.Resolver:
    nameservers = list(getattr(settings, "SC_MAILING_DNS_NAMESERVERS", []) or [])
    resolver = dns.resolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = nameservers
    resolver.port = int(getattr(settings, "SC_MAILING_DNS_PORT", 53))
    resolver.lifetime = float(getattr(settings, "SC_MAILING_DNS_TIMEOUT", 5.0))
    resolver.timeout = resolver.lifetime
    resolver.cache = None
    return resolver


def txt_records(name: str, *, resolver: dns.resolver.Resolver | None = None) -> tuple[str, list]:
    """The TXT strings at ``name`` (each record's strings joined): ``(OK, [...])``,
    ``(MISSING, [])`` for NXDOMAIN or no TXT, ``(DNS_ERROR, [])`` when the look-up failed."""
    resolver = resolver or _resolver()
    try:
        answer = resolver.resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return MISSING, []
    except (dns.exception.DNSException, OSError):
        return DNS_ERROR, []
    if answer.rrset is None:
        return MISSING, []
    values = [b"".join(rdata.strings).decode("utf-8", errors="replace") for rdata in answer.rrset]
    return (OK, values) if values else (MISSING, [])


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        if "=" in part:
            key, _sep, value = part.partition("=")
            tags[key.strip().lower()] = "".join(value.split())
    return tags


def spf_include() -> str:
    return settings.SC_MAILING_SPF_INCLUDE


def expected_records(domain: SenderDomain) -> list[RecordCheck]:
    """The records an own subdomain needs, with their expected values (nothing looked up)."""
    d = domain.domain
    return [
        RecordCheck(
            code="verification",
            name=f"{VERIFICATION_LABEL}.{d}",
            type="TXT",
            expected=f"{VERIFICATION_PREFIX}{domain.verification_token}",
        ),
        RecordCheck(
            code="spf", name=d, type="TXT", expected=f"v=spf1 include:{spf_include()} ~all"
        ),
        RecordCheck(
            code="dkim", name=domain.dkim_record_name, type="TXT", expected=domain.dkim_record_value
        ),
        RecordCheck(
            code="dmarc",
            name=f"_dmarc.{d}",
            type="TXT",
            expected=f"v=DMARC1; p=none; rua=mailto:dmarc@{d}",
        ),
    ]


def _check_verification(rec: RecordCheck, token: str, resolver) -> None:
    outcome, values = txt_records(rec.name, resolver=resolver)
    rec.found = values
    if outcome != OK:
        rec.problem = outcome
        return
    wanted = f"{VERIFICATION_PREFIX}{token}"
    rec.ok = any(v.strip() == wanted for v in values)
    rec.problem = "" if rec.ok else "token_mismatch"


def _check_spf(rec: RecordCheck, resolver) -> None:
    outcome, values = txt_records(rec.name, resolver=resolver)
    spf = [v for v in values if v.strip().lower().split(" ", 1)[0] == "v=spf1"]
    rec.found = spf
    if outcome == DNS_ERROR:
        rec.problem = DNS_ERROR
    elif not spf:
        rec.problem = "spf_missing"
    elif len(spf) > 1:
        rec.problem = "spf_multiple"
    elif f"include:{spf_include().lower()}" not in spf[0].lower().split():
        rec.problem = "spf_include_missing"
    else:
        rec.ok = True


def _check_dkim(rec: RecordCheck, public_key: str, resolver) -> None:
    outcome, values = txt_records(rec.name, resolver=resolver)
    rec.found = values
    if outcome != OK:
        rec.problem = outcome
        return
    keys = [_tags(v) for v in values]
    valid = [t for t in keys if t.get("v", "DKIM1") == "DKIM1" and t.get("p")]
    if not valid:
        rec.problem = "dkim_malformed"
    elif not any(t["p"] == public_key and t.get("k", "rsa") == "rsa" for t in valid):
        rec.problem = "dkim_key_mismatch"
    else:
        rec.ok = True


def _check_dmarc(rec: RecordCheck, domain: str, resolver) -> None:
    name = dns.name.from_text(domain)
    outcome = MISSING
    dmarc: list[str] = []
    # This domain, then its parents (not the top-level domain itself).
    while len(name.labels) > 2:  # labels include the root
        where = f"_dmarc.{name.to_text(omit_final_dot=True)}"
        outcome, values = txt_records(where, resolver=resolver)
        dmarc = [v for v in values if v.strip().upper().startswith("V=DMARC1")]
        if outcome == DNS_ERROR or dmarc:
            if where != rec.name:
                rec.where = where
            break
        name = name.parent()
    rec.found = dmarc
    if outcome == DNS_ERROR:
        rec.problem = DNS_ERROR
    elif not dmarc:
        rec.problem = MISSING
    elif len(dmarc) > 1:
        rec.problem = "dmarc_multiple"
    elif _tags(dmarc[0]).get("p", "").lower() not in DMARC_POLICIES:
        rec.problem = "dmarc_policy_invalid"
    else:
        rec.ok = True


def check_records(domain: SenderDomain) -> list[RecordCheck]:
    """Look up every record of ``domain`` (four to five TXT look-ups) and say which are right."""
    resolver = _resolver()
    checks = expected_records(domain)
    by_code = {c.code: c for c in checks}
    _check_verification(by_code["verification"], domain.verification_token, resolver)
    _check_spf(by_code["spf"], resolver)
    _check_dkim(by_code["dkim"], domain.dkim_public_key, resolver)
    _check_dmarc(by_code["dmarc"], domain.domain, resolver)
    return checks
