"""SPEC M-13: CSV import of external contacts (allowed shops only, mapping, validation report,
consent attestation, worker with progress, idempotent, bad rows never written)."""

import pytest
from audiencekit import subscriber
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import make_user

from core.errors import DomainError
from mailing import segments
from mailing.models import (
    Consent,
    ConsentStatus,
    ContactImport,
    ImportAllowance,
    ImportedContact,
    ImportStatus,
)
from mailing.services import imports
from mailing.services.imports import contact_import_run

pytestmark = pytest.mark.django_db

GOOD = (
    "Email,Name,Country\n"
    "ann@example.com,Ann,US\n"
    "not-an-email,Bob,US\n"
    "cat@example.com,Cat,USA\n"
    "ANN@example.com,Ann again,US\n"
    "dan@example.fr,Dan,FR\n"
)


@pytest.fixture
def allowed(shop_a):
    return ImportAllowance.objects.create(shop=shop_a)


def upload(shop, text=GOOD, user=None):
    return imports.import_upload(
        shop=shop, user=user or make_user(), name="c.csv", data=text.encode()
    )


def mapped(imp, *, run=True, mapping=None):
    imports.import_map(
        contact_import=imp,
        mapping=mapping or {"email": 0, "name": 1, "country": 2},
        attestation="Signed up at our fair stand, 2026-10",
        attested=True,
        ip="192.0.2.1",
    )
    if run:
        contact_import_run(import_id=imp.pk)
    imp.refresh_from_db()
    return imp


def test_m13_only_shops_an_admin_allows_can_import(shop_a):
    with pytest.raises(DomainError) as exc:
        upload(shop_a)
    assert exc.value.code == "mailing_import_not_allowed"
    assert not ContactImport.objects.exists()


def test_m13_upload_reads_the_header_and_guesses_the_mapping(shop_a, allowed):
    imp = upload(shop_a)
    assert imp.headers == ["Email", "Name", "Country"]
    assert imp.mapping == {"email": 0, "name": 1, "country": 2}
    assert imp.total_rows == 5
    assert imp.status == ImportStatus.UPLOADED


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xff\xfe\x00a", "mailing_import_encoding"),
        (b"email\n", "mailing_import_empty"),
    ],
)
def test_m13_unreadable_files_are_refused(shop_a, allowed, data, code):
    with pytest.raises(DomainError) as exc:
        imports.import_upload(shop=shop_a, user=make_user(), name="x.csv", data=data)
    assert exc.value.code == code
    assert not ContactImport.objects.exists()


def test_m13_row_limit_at_its_boundary(shop_a, allowed, settings):
    from constance import config

    config.MAILING_IMPORT_MAX_ROWS = 2
    assert upload(shop_a, "email\na@example.com\nb@example.com\n").total_rows == 2
    with pytest.raises(DomainError) as exc:
        upload(shop_a, "email\na@example.com\nb@example.com\nc@example.com\n")
    assert exc.value.code == "mailing_import_too_many"


def test_m13_consent_attestation_is_required(shop_a, allowed):
    imp = upload(shop_a)
    with pytest.raises(DomainError) as exc:
        imports.import_map(
            contact_import=imp, mapping={"email": 0}, attestation="", attested=True, ip=None
        )
    assert exc.value.code == "mailing_import_attestation"
    with pytest.raises(DomainError):
        imports.import_map(
            contact_import=imp, mapping={"email": 0}, attestation="yes", attested=False, ip=None
        )
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UPLOADED


def test_m13_mapping_needs_an_email_column_that_exists(shop_a, allowed):
    imp = upload(shop_a)
    for mapping in ({"name": 1}, {"email": 7}):
        with pytest.raises(DomainError):
            imports.import_map(
                contact_import=imp, mapping=mapping, attestation="x", attested=True, ip=None
            )


def test_m13_validation_reports_each_bad_row(shop_a, allowed):
    imp = mapped(upload(shop_a))
    assert imp.status == ImportStatus.VALIDATED
    assert (imp.valid_rows, imp.error_rows) == (2, 3)
    by_row = {e["row"]: [imports.problem_text(p) for p in e["errors"]] for e in imp.errors}
    assert set(by_row) == {3, 4, 5}
    assert by_row[3] == ["“not-an-email” is not an email address"]
    assert by_row[4] == ["country “USA” is not a two-letter code"]
    assert by_row[5] == ["the same address is on an earlier row"]
    assert not ImportedContact.objects.exists()  # nothing is written before the seller confirms


def test_m13_confirmed_import_writes_only_valid_rows_with_consent_evidence(shop_a, allowed):
    imp = mapped(upload(shop_a))
    imports.import_confirm(contact_import=imp)
    assert contact_import_run(import_id=imp.pk) == ImportStatus.DONE
    imp.refresh_from_db()
    assert imp.imported_rows == 2
    assert imp.processed_rows == imp.total_rows
    assert sorted(ImportedContact.objects.values_list("email", flat=True)) == [
        "ann@example.com",
        "dan@example.fr",
    ]
    ann = Consent.objects.get(shop=shop_a, email="ann@example.com")
    assert ann.source == "import"
    assert ann.ip == "192.0.2.1"
    assert "fair stand" in ann.evidence
    # SPEC M-3: the French contact is asked to confirm, and is no recipient until then
    dan = Consent.objects.get(shop=shop_a, email="dan@example.fr")
    assert dan.status == ConsentStatus.PENDING
    assert [r.email for r in segments.recipients(segments.ALL, shop=shop_a)] == ["ann@example.com"]


def test_m13_running_twice_writes_nothing_twice(shop_a, allowed):
    imp = mapped(upload(shop_a))
    imports.import_confirm(contact_import=imp)
    contact_import_run(import_id=imp.pk)
    contact_import_run(import_id=imp.pk)
    assert ImportedContact.objects.count() == 2
    # the same file again: the addresses are known, nothing new
    again = mapped(upload(shop_a))
    imports.import_confirm(contact_import=again)
    contact_import_run(import_id=again.pk)
    again.refresh_from_db()
    assert again.imported_rows == 0
    assert ImportedContact.objects.count() == 2


def test_m13_a_killed_worker_resumes_after_the_last_chunk(shop_a, allowed, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 2)
    text = "email\n" + "".join(f"p{i}@example.com\n" for i in range(5))
    imp = mapped(upload(shop_a, text), mapping={"email": 0})
    imports.import_confirm(contact_import=imp)
    # given: a worker that died after its first chunk committed
    real = imports.parse_row
    calls = {"n": 0}

    def dying(row, mapping):
        calls["n"] += 1
        if calls["n"] > 2:
            raise SystemExit("killed")
        return real(row, mapping)

    monkeypatch.setattr(imports, "parse_row", dying)
    with pytest.raises(SystemExit):
        contact_import_run(import_id=imp.pk)
    imp.refresh_from_db()
    assert (imp.processed_rows, ImportedContact.objects.count()) == (2, 2)
    # when: the task runs again
    monkeypatch.setattr(imports, "parse_row", real)
    contact_import_run(import_id=imp.pk)
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE
    assert ImportedContact.objects.count() == imp.imported_rows == 5


def test_m13_imported_address_never_replaces_a_confirmed_consent(shop_a, allowed):
    from audiencekit import confirm

    fr = subscriber(shop_a, country="FR", email="dan@example.fr")
    confirm(shop_a, fr)
    imp = mapped(upload(shop_a))
    imports.import_confirm(contact_import=imp)
    contact_import_run(import_id=imp.pk)
    assert Consent.objects.get(shop=shop_a, email="dan@example.fr").status == "confirmed"
    # one address, one message: the buyer is not counted again as an imported contact
    assert segments.count(segments.ALL, shop=shop_a) == 2


# --- pages ---------------------------------------------------------------------------------------


def test_m13_pages_walk_upload_mapping_report_and_progress(
    owner_client, shop_a, allowed, django_capture_on_commit_callbacks
):
    r = owner_client.post(
        reverse("mailing:imports"), {"file": SimpleUploadedFile("c.csv", GOOD.encode())}
    )
    imp = ContactImport.objects.get(shop=shop_a)
    assert r.status_code == 302
    detail = reverse("mailing:import_detail", args=[imp.pk])
    page = owner_client.get(detail).content.decode()
    assert "Columns and consent" in page
    # the attestation missing: a form error, nothing queued
    r = owner_client.post(detail, {"col_email": "0"})
    assert r.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            detail,
            {"col_email": "0", "col_country": "2", "attested": "on", "attestation": "Fair 2026"},
        )
    page = owner_client.get(detail).content.decode()
    assert "2 valid rows, 3 rows with errors" in page
    assert "“not-an-email” is not an email address" in page
    # the report is shown in the seller's language, whatever the worker's
    zh = owner_client.get(detail, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "“not-an-email”不是电子邮箱地址" in zh
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("mailing:import_confirm", args=[imp.pk]))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE
    progress = owner_client.get(
        reverse("mailing:import_progress", args=[imp.pk]), headers={"HX-Request": "true"}
    )
    assert 'aria-valuenow="100"' in progress.content.decode()
    assert progress["HX-Refresh"] == "true"


def test_m13_progress_polls_while_running(owner_client, shop_a, allowed):
    imp = mapped(upload(shop_a), run=False)
    r = owner_client.get(reverse("mailing:import_progress", args=[imp.pk]))
    assert 'hx-trigger="every 1s"' in r.content.decode()


def test_m13_upload_refused_on_the_page_when_not_allowed(owner_client, shop_a):
    page = owner_client.get(reverse("mailing:imports")).content.decode()
    assert "not enabled for your shop" in page
    r = owner_client.post(
        reverse("mailing:imports"), {"file": SimpleUploadedFile("c.csv", GOOD.encode())}
    )
    assert r.status_code == 400
    assert not ContactImport.objects.exists()


def test_m13_another_shops_import_is_404(owner_client, shop_b):
    ImportAllowance.objects.create(shop=shop_b)
    imp = upload(shop_b)
    for name in ("import_detail", "import_progress"):
        assert owner_client.get(reverse(f"mailing:{name}", args=[imp.pk])).status_code == 404
    assert owner_client.post(reverse("mailing:import_confirm", args=[imp.pk])).status_code == 404


def test_m13_analyst_cannot_upload(analyst_client, shop_a, allowed):
    r = analyst_client.post(
        reverse("mailing:imports"), {"file": SimpleUploadedFile("c.csv", GOOD.encode())}
    )
    assert r.status_code == 403
    assert not ContactImport.objects.exists()


def test_m13_import_list_query_count_is_constant(owner_client, shop_a, allowed):
    url = reverse("mailing:imports")
    upload(shop_a)
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    for _ in range(6):
        upload(shop_a)
    with CaptureQueriesContext(connection) as many:
        owner_client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries) <= 10


def test_m13_a_stalled_import_is_queued_again_by_the_beat(shop_a, allowed, time_machine):
    from datetime import timedelta

    from core import clock

    now = clock.now()
    time_machine.move_to(now, tick=False)
    imp = mapped(upload(shop_a))
    imports.import_confirm(contact_import=imp)  # queued, but its worker never ran
    time_machine.move_to(now + imports.STALLED_AFTER - timedelta(seconds=1), tick=False)
    assert imports.contact_imports_resume() == 0
    time_machine.move_to(now + imports.STALLED_AFTER + timedelta(seconds=1), tick=False)

    assert imports.contact_imports_resume() == 1
    assert imports.contact_imports_resume() == 0  # just queued: not again at once


def test_m13_resume_task_finishes_the_import(
    shop_a, allowed, time_machine, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from core import clock
    from mailing.tasks import contact_imports_resume_task

    now = clock.now()
    time_machine.move_to(now, tick=False)
    imp = mapped(upload(shop_a))
    imports.import_confirm(contact_import=imp)
    time_machine.move_to(now + timedelta(minutes=6), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_imports_resume_task.delay().get() == 1
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE
    assert ImportedContact.objects.count() == 2


def test_m3_m13_an_import_without_countries_asks_eu_and_unknown_sites_to_confirm(shop_a, allowed):
    # given: a file with no country column, only the site
    text = (
        "email,site\n"
        "marie@example.com,fr\n"  # France by the site
        "hans@web.de,us\n"  # Germany by the address's domain
        "pat@example.com,us\n"  # United States
        "who@example.com,\n"  # unknown
    )
    imp = mapped(upload(shop_a, text), mapping={"email": 0, "site": 1})

    # when
    imports.import_confirm(contact_import=imp)
    contact_import_run(import_id=imp.pk)

    # then: the EU and unknown ones are asked to confirm and are no recipients until then
    states = dict(Consent.objects.filter(shop=shop_a).values_list("email", "status"))
    assert states == {
        "marie@example.com": ConsentStatus.PENDING,
        "hans@web.de": ConsentStatus.PENDING,
        "pat@example.com": ConsentStatus.GRANTED,
        "who@example.com": ConsentStatus.PENDING,
    }
    assert [r.email for r in segments.recipients(segments.ALL, shop=shop_a)] == ["pat@example.com"]
