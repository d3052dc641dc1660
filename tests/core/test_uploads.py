"""core.uploads: private files are sniffed from their content, size-limited, stored outside every
public URL and served only to whom the owner's access check allows."""

import os
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from core import uploads
from core.models import PrivateFile

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"PE\x00\x00"


def _png() -> bytes:
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    location = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _store(shop, name, content, content_type="application/pdf", user=None):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return uploads.private_file_store(uploaded=upload, owner=shop, uploaded_by=user)


# --- accepted ------------------------------------------------------------------------------------


def test_a_pdf_is_stored_privately_under_a_random_name(shop_a, owner, private_dir, settings):
    # when
    stored = _store(shop_a, "invoice 2025.pdf", PDF, user=owner)
    # then
    assert stored.content_type == "application/pdf"
    assert stored.size == len(PDF)
    assert stored.original_name == "invoice_2025.pdf"
    assert stored.uploaded_by == owner
    assert stored.owner == shop_a
    [path] = _files(private_dir)
    assert path.read_bytes() == PDF
    assert "invoice" not in path.name
    assert path.name == f"{stored.pk.hex}.pdf"
    for public in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
        assert not str(path).startswith(str(public))


def test_a_png_is_accepted_whatever_the_browser_said(shop_a, private_dir):
    # when: the browser claims octet-stream; the content is a PNG
    stored = _store(shop_a, "logo", _png(), content_type="application/octet-stream")
    # then
    assert stored.content_type == "image/png"
    assert stored.extension == "png"
    assert len(_files(private_dir)) == 1


def test_private_files_have_no_url(shop_a):
    # given
    stored = _store(shop_a, "a.pdf", PDF)
    # then
    with pytest.raises(ValueError, match="no URL"):
        stored.file.url  # noqa: B018


# --- refused -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.pdf", EXE),  # an .exe renamed .pdf
        ("notes.pdf", b"just some text, no signature at all\n" * 10),
        ("page.png", b"<html><script>alert(1)</script></html>"),
        ("archive.pdf", b"PK\x03\x04" + b"\x00" * 100),  # a zip
    ],
)
def test_content_that_is_not_an_allowed_type_is_refused(shop_a, private_dir, name, content):
    # given: whatever a session-wide fixture (the demo of the browser tests) stored already
    before = PrivateFile.objects.count()
    # when
    with pytest.raises(ValidationError) as e:
        _store(shop_a, name, content, content_type="application/pdf")
    # then: nothing stored
    assert e.value.code == "file_type"
    assert "PDF" in str(e.value.messages)
    assert PrivateFile.objects.count() == before
    assert _files(private_dir) == []


def test_an_oversize_file_is_refused(shop_a, private_dir, settings):
    # given
    settings.SC_UPLOAD_MAX_BYTES = len(PDF) - 1
    before = PrivateFile.objects.count()
    # when
    with pytest.raises(ValidationError) as e:
        _store(shop_a, "big.pdf", PDF)
    # then
    assert e.value.code == "file_too_large"
    assert PrivateFile.objects.count() == before
    assert _files(private_dir) == []


def test_a_file_of_exactly_the_limit_is_accepted(shop_a, settings):
    # given
    settings.SC_UPLOAD_MAX_BYTES = len(PDF)
    # then
    assert _store(shop_a, "edge.pdf", PDF).size == len(PDF)


def test_an_empty_file_is_refused(shop_a):
    with pytest.raises(ValidationError) as e:
        _store(shop_a, "empty.pdf", b"")
    assert e.value.code == "file_empty"


def test_a_module_can_narrow_the_allow_list(shop_a):
    # when / then: a PNG where only PDFs are wanted
    with pytest.raises(ValidationError):
        uploads.private_file_store(
            uploaded=SimpleUploadedFile("a.png", _png()),
            owner=shop_a,
            allowed_types=["application/pdf"],
        )


def test_the_form_validator_refuses_the_same(shop_a):
    # given
    from django import forms

    class Form(forms.Form):
        file = forms.FileField(validators=[uploads.validate_upload])

    # when
    bad = Form(files={"file": SimpleUploadedFile("x.pdf", EXE)})
    good = Form(files={"file": SimpleUploadedFile("x.pdf", PDF)})
    # then
    with translation.override("en"):
        assert not bad.is_valid()
        assert bad.errors["file"][0] == (
            "This type of file is not accepted. Upload one of: PDF, PNG, JPG, WEBP."
        )
    assert good.is_valid()


# --- served --------------------------------------------------------------------------------------


def _url(stored):
    return reverse("private_file", args=[stored.pk])


def test_a_member_of_the_owning_shop_downloads_it(owner_client, analyst_client, shop_a):
    # given
    stored = _store(shop_a, "invoice.pdf", PDF)
    for client in (owner_client, analyst_client):
        # when
        response = client.get(_url(stored))
        # then
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
        cache = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache


def test_another_shops_file_is_404(other_client, shop_a):
    # given
    stored = _store(shop_a, "invoice.pdf", PDF)
    # when
    response = other_client.get(_url(stored))
    # then
    assert response.status_code == 404
    assert PDF not in response.content


def test_a_member_of_both_shops_reads_it_only_from_the_owning_shop(shop_a, shop_b):
    # given
    from factories import login_client, make_member

    user = make_member(shop_a, "owner")
    make_member(shop_b, "owner", user=user)
    stored = _store(shop_a, "invoice.pdf", PDF)
    # then
    assert login_client(user, shop_a).get(_url(stored)).status_code == 200
    assert login_client(user, shop_b).get(_url(stored)).status_code == 404


def test_anonymous_is_refused(client, shop_a):
    # given
    stored = _store(shop_a, "invoice.pdf", PDF)
    # when
    response = client.get(_url(stored))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_unknown_or_junk_ids_are_404(owner_client):
    assert owner_client.get(reverse("private_file", args=[uuid.uuid4()])).status_code == 404
    assert owner_client.get("/files/not-a-uuid/").status_code == 404
    assert owner_client.get("/files/" + "9" * 40 + "/").status_code == 404


def test_a_file_whose_owner_has_no_access_check_is_404(owner_client, owner, order_a):
    # given: a file owned by an order (no check registered for orders)
    stored = uploads.private_file_store(uploaded=SimpleUploadedFile("a.pdf", PDF), owner=order_a)
    # then
    assert owner_client.get(_url(stored)).status_code == 404


def test_the_download_is_read_only(owner_client, shop_a):
    # given
    stored = _store(shop_a, "invoice.pdf", PDF)
    # then
    assert owner_client.post(_url(stored)).status_code == 405


def test_a_module_view_serves_through_the_helper_after_its_own_check(rf, owner, shop_a):
    # given
    stored = _store(shop_a, "invoice.pdf", PDF)
    request = rf.get("/")
    request.user, request.shop = owner, shop_a
    # then
    assert uploads.can_access(request, stored) is True
    assert b"".join(uploads.serve(request, stored).streaming_content) == PDF
    request.shop = None
    assert uploads.can_access(request, stored) is False


# --- configuration -------------------------------------------------------------------------------


def _private_storage_in_a_fresh_process(**env) -> str:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'sellercenter.settings';"
        "django.setup(); from django.conf import settings;"
        "print(settings.STORAGES['private']['BACKEND'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_DEBUG": "true", **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return out.stdout.strip()


def test_local_disk_by_default_and_s3_when_a_bucket_is_named():
    assert (
        _private_storage_in_a_fresh_process(SC_PRIVATE_UPLOADS_BUCKET="")
        == "core.storage.PrivateFileSystemStorage"
    )
    assert (
        _private_storage_in_a_fresh_process(SC_PRIVATE_UPLOADS_BUCKET="sc-private")
        == "storages.backends.s3.S3Storage"
    )


def test_a_file_missing_from_the_storage_is_404_not_a_500(owner_client, shop_a, private_dir):
    # given: the row remains, the file was lost (a restore from backup, a bucket policy…)
    stored = _store(shop_a, "invoice.pdf", PDF)
    for path in _files(private_dir):
        path.unlink()
    # then
    assert owner_client.get(_url(stored)).status_code == 404
