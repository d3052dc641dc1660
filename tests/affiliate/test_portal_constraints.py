"""The constraints of the promoter portal's models (documents, payout batches, lines, items) and
the database's refusal to change a paid payout batch (migration 0003's triggers)."""

import pytest
from constance.test import override_config
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from affiliate import services
from affiliate.models import (
    PayoutBatch,
    PayoutItem,
    PayoutLine,
    PromoterDocument,
)
from core import clock

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def pw(db, shop_a):
    """A promoter with a document, an open batch with a line and an item, and a paid batch."""
    from test_payouts import settled_commission

    p = services.promoter_sign_up(
        name="Docs", email="docs@promo.example.com", password="x7-Long-pass"
    )
    doc = services.document_upload(
        promoter=p, kind="licence", uploaded=SimpleUploadedFile("l.pdf", PDF)
    )
    commission = settled_commission(shop_a)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency=commission.currency)
    line = batch.lines.get()
    return {
        "doc": doc,
        "promoter": p,
        "batch": batch,
        "line": line,
        "item": line.items.first(),
        "commission": commission,
    }


PORTAL_CASES = {
    "promoter_document_per_kind": lambda w: PromoterDocument.objects.create(
        promoter=w["promoter"], kind="licence", file=w["doc"].file, uploaded_at=clock.now()
    ),
    "payout_one_open_batch": lambda w: PayoutBatch.objects.create(
        currency=w["batch"].currency, minimum_minor=0, created_at=clock.now()
    ),
    "payout_batch_amounts_non_negative": lambda w: PayoutBatch.objects.filter(
        pk=w["batch"].pk
    ).update(total_minor=-1),
    "payout_line_per_promoter": lambda w: PayoutLine.objects.create(
        batch=w["batch"], promoter=w["line"].promoter, amount_minor=1
    ),
    "payout_line_positive": lambda w: PayoutLine.objects.create(
        batch=w["batch"], promoter=w["promoter"], amount_minor=0
    ),
    "payout_line_reason_only_failed": lambda w: PayoutLine.objects.filter(pk=w["line"].pk).update(
        failure_reason="no"
    ),
    "payout_item_unique": lambda w: PayoutItem.objects.create(
        line=w["line"], commission=w["commission"]
    ),
}


@pytest.mark.parametrize("case", list(PORTAL_CASES))
def test_a1_payout_portal_constraint_refuses_its_violation(pw, case):
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        PORTAL_CASES[case](pw)
    assert case in str(exc.value)
