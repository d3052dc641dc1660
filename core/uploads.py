"""Private uploads: files sellers give us (invoices, certificates, images) that nobody else
may read.

- Stored in the ``private`` storage (``settings.STORAGES["private"]``): local disk under
  ``var/private`` by default — outside ``STATIC_ROOT`` and ``MEDIA_ROOT``, with no URL at all —
  or an S3-compatible bucket through django-storages when ``SC_PRIVATE_UPLOADS_BUCKET`` is set
  (private ACL; the app streams the file, the bucket is never linked).
- Accepted only if the **content** is of an allowed type (sniffed from the first bytes with
  ``filetype``; the name and the browser's Content-Type are not trusted: an ``.exe`` renamed
  ``.pdf`` is an ``.exe``) and within ``SC_UPLOAD_MAX_BYTES``.
- Read only through a view that checks access: ``serve(request, private_file)`` for a module's
  own view, or the generic ``/files/<uuid>/`` view, which asks the access check registered for
  the file's owner model (``register_access``); no check registered, or not allowed: 404.

A module attaches a file to one of its objects::

    stored = uploads.private_file_store(uploaded=form.cleaned_data["file"], owner=campaign,
                                        uploaded_by=request.user)
    # later, in a view that already checked the campaign belongs to request.shop:
    return uploads.serve(request, stored)
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import patch_cache_control
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from .models import PrivateFile

__all__ = [
    "PrivateFile",
    "can_access",
    "private_file_store",
    "register_access",
    "serve",
    "sniff",
    "validate_upload",
]

SNIFF_BYTES = 8192  # enough for every signature filetype knows (it needs 261)


# --- validation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


def sniff(uploaded: UploadedFile, *, allowed_types: Iterable[str] | None = None) -> Sniffed:
    """The upload's real type, from its content. ``ValidationError`` when it is too big, of a
    type not in ``allowed_types`` (default: ``settings.SC_UPLOAD_ALLOWED_TYPES``) or unknown."""
    limit = settings.SC_UPLOAD_MAX_BYTES
    if uploaded.size is None or uploaded.size > limit:
        raise ValidationError(
            _("The file is too large: at most %(mb)s MB."),
            code="file_too_large",
            params={"mb": f"{limit / 1024 / 1024:g}"},
        )
    if uploaded.size == 0:
        raise ValidationError(_("The file is empty."), code="file_empty")
    uploaded.seek(0)
    head = uploaded.read(SNIFF_BYTES)
    uploaded.seek(0)
    kind = filetype.guess(head)
    allowed = tuple(allowed_types or settings.SC_UPLOAD_ALLOWED_TYPES)
    if kind is None or kind.mime not in allowed:
        raise ValidationError(
            _("This type of file is not accepted. Upload one of: %(types)s."),
            code="file_type",
            params={"types": ", ".join(_label(t) for t in allowed)},
        )
    return Sniffed(content_type=kind.mime, extension=kind.extension)


def _label(mime: str) -> str:
    kind = filetype.get_type(mime=mime)
    return kind.extension.upper() if kind else mime


def validate_upload(uploaded: UploadedFile) -> None:
    """For ``forms.FileField(validators=[validate_upload])``: the default allow-list and size."""
    sniff(uploaded)


# --- storage -------------------------------------------------------------------------------------


def private_file_store(
    *,
    uploaded: UploadedFile,
    owner: models.Model,
    uploaded_by=None,
    allowed_types: Iterable[str] | None = None,
) -> PrivateFile:
    """Check ``uploaded`` (size, sniffed type) and store it for ``owner``."""
    from django.contrib.contenttypes.models import ContentType

    kind = sniff(uploaded, allowed_types=allowed_types)
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    name = get_valid_filename((uploaded.name or "file").replace("\x00", ""))[-200:] or "file"
    record = PrivateFile(
        owner_type=ContentType.objects.get_for_model(owner),
        owner_id=str(owner.pk),
        original_name=name,
        content_type=kind.content_type,
        extension=kind.extension,
        size=uploaded.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=uploaded_by,
    )
    # The file goes to the storage first: a row never points at a missing file. A failed
    # insert removes the file again.
    record.file.save(name, uploaded, save=False)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except Exception:
        record.file.storage.delete(str(record.file.name))
        raise
    return record


# --- access --------------------------------------------------------------------------------------

AccessCheck = Callable[[HttpRequest, models.Model], bool]
_ACCESS: dict[type[models.Model], AccessCheck] = {}


def register_access(model: type[models.Model], check: AccessCheck) -> None:
    """Who may read files owned by a ``model`` instance (call it in the app's ``ready()``)."""
    _ACCESS[model] = check


def can_access(request: HttpRequest, private_file: PrivateFile) -> bool:
    model = private_file.owner_type.model_class()
    check = _ACCESS.get(model) if model is not None else None
    if model is None or check is None or not request.user.is_authenticated:
        return False
    try:
        owner = private_file.owner
    except ObjectDoesNotExist:
        return False
    return bool(check(request, owner))


def serve(request: HttpRequest, private_file: PrivateFile) -> FileResponse:
    """The file, to a caller whose access was checked: as a download (never rendered by the
    browser as a page of this site), never cached."""
    try:
        handle = private_file.file.storage.open(str(private_file.file.name), "rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is gone from the storage.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=private_file.original_name,
        content_type=private_file.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
@login_required
def private_file_view(request: HttpRequest, file_id: uuid.UUID):
    """``/files/<uuid>/``: the file if the owner's access check allows it, else 404 (the same
    answer as for a file that does not exist, so ids cannot be probed)."""
    private_file = PrivateFile.objects.select_related("owner_type").filter(pk=file_id).first()
    if private_file is None or not can_access(request, private_file):
        raise Http404("No such file.")
    return serve(request, private_file)
