"""SPEC M-13: CSV import of external contacts, for shops a platform admin allows.

Steps: upload (size and row limits, the header read) → field mapping and the consent attestation
→ validation by the worker (a per-row report) → the seller confirms → the worker writes the
valid rows in chunks, each chunk one transaction with the progress counter, so a killed worker
resumes where it stopped and a second run writes nothing twice. A row is written whole (contact
and consent together) or not at all; rows with errors are never written.
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass
from datetime import timedelta

from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from buyers.models import BUYER_LANGUAGES, Site
from core import clock
from core.errors import DomainError
from shops.models import Shop

from .. import rules, sites
from ..models import (
    Consent,
    ConsentSource,
    ConsentStatus,
    ContactImport,
    ImportAllowance,
    ImportedContact,
    ImportStatus,
)
from .audience import normalize_email

MAX_BYTES = 10 * 1024 * 1024  # a CSV of 50,000 rows is far smaller
CHUNK = 500
MAX_REPORTED_ERRORS = 200
# The fields a column can map to; email is required.
TARGETS = ("email", "name", "country", "site", "language")


def _rows(text: str) -> list[list[str]]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]


def import_upload(*, shop: Shop, user, name: str, data: bytes) -> ContactImport:
    """Store an uploaded CSV for mapping. Refused (nothing stored) when the shop is not allowed,
    the file is too big, not UTF-8 text, has no header or too many rows."""
    if not ImportAllowance.objects.filter(shop=shop).exists():
        raise DomainError(
            _("Contact import is not enabled for your shop; ask platform support to allow it."),
            code="mailing_import_not_allowed",
        )
    if len(data) > MAX_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)s MB; split it into smaller files.")
            % {"mb": MAX_BYTES // (1024 * 1024)},
            code="mailing_import_too_big",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(
            _("The file is not UTF-8 text; save it as “CSV UTF-8” and upload it again."),
            code="mailing_import_encoding",
        ) from None
    if "\x00" in text:
        raise DomainError(_("The file is not a CSV text file."), code="mailing_import_binary")
    rows = _rows(text)
    if len(rows) < 2:
        raise DomainError(
            _("The file needs a header row and at least one contact."),
            code="mailing_import_empty",
        )
    limit = rules.import_max_rows()
    if len(rows) - 1 > limit:
        raise DomainError(
            _("The file has %(n)s contacts; one import takes at most %(max)s.")
            % {"n": len(rows) - 1, "max": limit},
            code="mailing_import_too_many",
        )
    headers = [h.strip()[:80] for h in rows[0]]
    return ContactImport.objects.create(
        shop=shop,
        created_by=user,
        created_at=clock.now(),
        file_name=(name or "contacts.csv")[:200],
        content=text,
        headers=headers,
        total_rows=len(rows) - 1,
        mapping=guess_mapping(headers),
    )


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """A first mapping from the header names (the seller confirms or changes it)."""
    names = {
        "email": ("email", "e-mail", "mail", "邮箱", "电子邮件"),
        "name": ("name", "full name", "姓名"),
        "country": ("country", "国家"),
        "site": ("site", "站点"),
        "language": ("language", "lang", "语言"),
    }
    out: dict[str, int] = {}
    for i, h in enumerate(headers):
        key = h.strip().casefold()
        for target, aliases in names.items():
            if target not in out and key in aliases:
                out[target] = i
    return out


def import_map(
    *,
    contact_import: ContactImport,
    mapping: dict[str, int],
    attestation: str,
    attested: bool,
    ip: str | None,
) -> ContactImport:
    """Save the mapping and the consent attestation, then validate in the worker."""
    from ..tasks import contact_import_task

    if "email" not in mapping:
        raise DomainError(
            _("Choose the column holding the email address."), code="mailing_import_no_email"
        )
    width = len(contact_import.headers)
    if any(not (0 <= i < width) for i in mapping.values()) or set(mapping) - set(TARGETS):
        raise DomainError(
            _("The mapping names a column the file does not have."), code="mailing_import_mapping"
        )
    if not attested or not attestation.strip():
        raise DomainError(
            _("Confirm that every contact agreed to receive your marketing emails, and say how."),
            code="mailing_import_attestation",
        )
    with transaction.atomic():
        updated = ContactImport.objects.filter(
            pk=contact_import.pk,
            status__in=[ImportStatus.UPLOADED, ImportStatus.VALIDATED],
        ).update(
            mapping=mapping,
            attestation=attestation.strip()[:2000],
            attested_at=clock.now(),
            attested_ip=ip,
            status=ImportStatus.VALIDATING,
            progress_at=clock.now(),
            valid_rows=0,
            error_rows=0,
            errors=[],
        )
        if not updated:
            raise DomainError(
                _("This import is already running or finished."), code="mailing_import_state"
            )
        contact_import_task.delay_on_commit(contact_import.pk)
    contact_import.refresh_from_db()
    return contact_import


def import_confirm(*, contact_import: ContactImport) -> ContactImport:
    """The seller confirms the validated import: the worker writes the valid rows."""
    from ..tasks import contact_import_task

    with transaction.atomic():
        updated = ContactImport.objects.filter(
            pk=contact_import.pk, status=ImportStatus.VALIDATED, valid_rows__gt=0
        ).update(
            status=ImportStatus.IMPORTING,
            processed_rows=0,
            imported_rows=0,
            progress_at=clock.now(),
        )
        if not updated:
            raise DomainError(
                _("There is nothing to import in this file."), code="mailing_import_state"
            )
        contact_import_task.delay_on_commit(contact_import.pk)
    contact_import.refresh_from_db()
    return contact_import


@dataclass(frozen=True)
class Parsed:
    email: str
    name: str
    country: str
    site: str
    language: str


SITES = set(Site.values)


# A row's problems are stored untranslated, as [message, parameters], and translated when
# shown: the worker that checks the file does not know the seller's language.
Problem = list  # [msgid, {param: value}]


def problem_text(problem: Problem) -> str:
    """A stored problem in the active language."""
    msgid, params = problem
    return _(msgid) % params if params else _(msgid)


def parse_row(row: list[str], mapping: dict[str, int]) -> tuple[Parsed | None, list[Problem]]:
    """One data row through the mapping: the contact, or the list of what is wrong with it."""

    def cell(target: str) -> str:
        i = mapping.get(target)
        return row[i].strip() if i is not None and i < len(row) else ""

    errors: list[Problem] = []
    email = normalize_email(cell("email"))
    if not email:
        errors.append([gettext_noop("no email address"), {}])
    else:
        try:
            validate_email(email)
        except Exception:
            errors.append(
                [gettext_noop("“%(v)s” is not an email address"), {"v": cell("email")[:80]}]
            )
    country = cell("country").upper()
    if country and (len(country) != 2 or not country.isalpha()):
        errors.append(
            [gettext_noop("country “%(v)s” is not a two-letter code"), {"v": country[:20]}]
        )
    site = cell("site").casefold()
    if site and site not in SITES:
        errors.append([gettext_noop("unknown site “%(v)s”"), {"v": site[:20]}])
    language = cell("language").casefold()
    if language and language not in BUYER_LANGUAGES:
        errors.append([gettext_noop("unknown language “%(v)s”"), {"v": language[:20]}])
    if errors:
        return None, errors
    return Parsed(email, cell("name")[:200], country, site, language), []


def _validate(imp: ContactImport) -> None:
    rows = _rows(imp.content)[1:]
    seen: set[str] = set()
    valid, error_rows = 0, 0
    report: list[dict] = []
    mapping = {k: int(v) for k, v in imp.mapping.items()}
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        parsed, errors = parse_row(row, mapping)
        if parsed is not None and parsed.email in seen:
            errors = [[gettext_noop("the same address is on an earlier row"), {}]]
        if errors:
            error_rows += 1
            if len(report) < MAX_REPORTED_ERRORS:
                report.append({"row": n, "errors": errors})
            continue
        assert parsed is not None
        seen.add(parsed.email)
        valid += 1
    ContactImport.objects.filter(pk=imp.pk, status=ImportStatus.VALIDATING).update(
        status=ImportStatus.VALIDATED,
        total_rows=len(rows),
        valid_rows=valid,
        error_rows=error_rows,
        errors=report,
    )


def _write(imp: ContactImport) -> None:
    rows = _rows(imp.content)[1:]
    mapping = {k: int(v) for k, v in imp.mapping.items()}
    doi = rules.double_opt_in_countries()
    evidence = _("CSV import “%(file)s”, attested: %(text)s") % {
        "file": imp.file_name,
        "text": imp.attestation,
    }
    while True:
        with transaction.atomic():
            # The row lock serialises two workers on one import; the counter moves with the rows.
            current = ContactImport.objects.select_for_update().get(pk=imp.pk)
            if current.status != ImportStatus.IMPORTING:
                return
            start = current.processed_rows
            chunk = rows[start : start + CHUNK]
            if not chunk:
                current.status = ImportStatus.DONE
                current.finished_at = clock.now()
                current.save(update_fields=["status", "finished_at"])
                return
            now = clock.now()
            contacts, consents = [], []
            seen: set[str] = set()
            for row in chunk:
                parsed, errors = parse_row(row, mapping)
                if errors or parsed is None or parsed.email in seen:
                    continue  # never written: the report listed it
                seen.add(parsed.email)
                contacts.append(
                    ImportedContact(
                        shop_id=imp.shop_id,
                        email=parsed.email,
                        name=parsed.name,
                        country=parsed.country,
                        site=parsed.site,
                        language=parsed.language,
                        contact_import_id=imp.pk,
                        created_at=now,
                    )
                )
                consents.append(
                    Consent(
                        shop_id=imp.shop_id,
                        email=parsed.email,
                        status=ConsentStatus.GRANTED,
                        source=ConsentSource.IMPORT,
                        granted_at=now,
                        ip=imp.attested_ip,
                        evidence=evidence,
                        contact_import_id=imp.pk,
                    )
                )
            before = ImportedContact.objects.filter(contact_import_id=imp.pk).count()
            # Idempotent: an address already known to the shop keeps its row and its consent
            # (a confirmed double opt-in is never replaced by an import).
            ImportedContact.objects.bulk_create(contacts, ignore_conflicts=True)
            Consent.objects.bulk_create(consents, ignore_conflicts=True)
            after = ImportedContact.objects.filter(contact_import_id=imp.pk).count()
            current.processed_rows = start + len(chunk)
            current.imported_rows += after - before
            current.progress_at = clock.now()
            current.save(update_fields=["processed_rows", "imported_rows", "progress_at"])
            # SPEC M-3: contacts in double opt-in countries are asked to confirm — with no
            # country in the file, the country of their site (the address's domain, else the
            # site column); a contact whose country stays unknown is asked too.
            for c in contacts:
                if sites.needs_double_opt_in(
                    country=c.country, email=c.email, site=c.site, countries=doi
                ):
                    _request_confirmation(imp.shop_id, c.email)


def _request_confirmation(shop_id: int, email: str) -> None:
    from .audience import double_opt_in_request

    consent = Consent.objects.filter(shop_id=shop_id, email=email).first()
    if consent is None or consent.status != ConsentStatus.GRANTED or consent.requested_at:
        return
    with contextlib.suppress(DomainError):  # suppressed or confirmed meanwhile: nothing to ask
        double_opt_in_request(shop=consent.shop, email=email, source=ConsentSource.IMPORT)


def contact_import_run(*, import_id: int) -> str:
    """The worker's step for an import: validate it, or write it; anything else is done."""
    imp = ContactImport.objects.filter(pk=import_id).first()
    if imp is None:
        return "missing"
    if imp.status == ImportStatus.VALIDATING:
        _validate(imp)
    elif imp.status == ImportStatus.IMPORTING:
        _write(imp)
    return ContactImport.objects.values_list("status", flat=True).get(pk=import_id)


STALLED_AFTER = timedelta(minutes=5)


def contact_imports_resume(*, at=None) -> int:
    """Queue again every import still validating or importing that has not moved for
    ``STALLED_AFTER`` (its worker died or its message was lost): the task continues after the
    last committed chunk. Returns how many were queued."""
    from ..tasks import contact_import_task

    at = at or clock.now()
    stalled = list(
        ContactImport.objects.filter(
            status__in=[ImportStatus.VALIDATING, ImportStatus.IMPORTING],
            progress_at__lt=at - STALLED_AFTER,
        ).values_list("pk", flat=True)
    )
    for pk in stalled:
        ContactImport.objects.filter(pk=pk).update(progress_at=at)
        contact_import_task.delay_on_commit(pk)
    return len(stalled)
