# A paid payout batch is immutable (issue 9 item 6), whoever sends the UPDATE or DELETE — the
# ORM, an admin action, raw SQL. A payout line once paid or failed never changes; no line is
# deleted or added to a paid batch; payout items are append-only (core/appendonly.py).
from django.db import migrations

from core.appendonly import append_only_operation

_PG = """
CREATE FUNCTION affiliate_payoutbatch_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'paid' THEN
        RAISE EXCEPTION 'a paid payout batch is immutable: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER affiliate_payoutbatch_immutable
    BEFORE UPDATE OR DELETE ON affiliate_payoutbatch
    FOR EACH ROW EXECUTE FUNCTION affiliate_payoutbatch_immutable();

CREATE FUNCTION affiliate_payoutline_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM affiliate_payoutbatch b
                   WHERE b.id = NEW.batch_id AND b.status = 'paid') THEN
            RAISE EXCEPTION 'a paid payout batch is immutable: INSERT refused'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' OR OLD.status <> 'pending' OR NEW.amount_minor <> OLD.amount_minor
       OR NEW.promoter_id <> OLD.promoter_id OR NEW.batch_id <> OLD.batch_id THEN
        RAISE EXCEPTION 'payout lines are final once paid or failed: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER affiliate_payoutline_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON affiliate_payoutline
    FOR EACH ROW EXECUTE FUNCTION affiliate_payoutline_immutable();
"""

_PG_OFF = """
DROP TRIGGER IF EXISTS affiliate_payoutbatch_immutable ON affiliate_payoutbatch;
DROP FUNCTION IF EXISTS affiliate_payoutbatch_immutable();
DROP TRIGGER IF EXISTS affiliate_payoutline_immutable ON affiliate_payoutline;
DROP FUNCTION IF EXISTS affiliate_payoutline_immutable();
"""

_SQLITE = [
    """CREATE TRIGGER affiliate_payoutbatch_no_update BEFORE UPDATE ON affiliate_payoutbatch
    WHEN OLD.status = 'paid'
    BEGIN SELECT RAISE(ABORT, 'a paid payout batch is immutable: UPDATE refused'); END;""",
    """CREATE TRIGGER affiliate_payoutbatch_no_delete BEFORE DELETE ON affiliate_payoutbatch
    WHEN OLD.status = 'paid'
    BEGIN SELECT RAISE(ABORT, 'a paid payout batch is immutable: DELETE refused'); END;""",
    """CREATE TRIGGER affiliate_payoutline_no_insert BEFORE INSERT ON affiliate_payoutline
    WHEN EXISTS (SELECT 1 FROM affiliate_payoutbatch b
                 WHERE b.id = NEW.batch_id AND b.status = 'paid')
    BEGIN SELECT RAISE(ABORT, 'a paid payout batch is immutable: INSERT refused'); END;""",
    """CREATE TRIGGER affiliate_payoutline_no_update BEFORE UPDATE ON affiliate_payoutline
    WHEN OLD.status <> 'pending' OR NEW.amount_minor <> OLD.amount_minor
         OR NEW.promoter_id <> OLD.promoter_id OR NEW.batch_id <> OLD.batch_id
    BEGIN SELECT RAISE(ABORT, 'payout lines are final once paid or failed: UPDATE refused'); END;""",
    """CREATE TRIGGER affiliate_payoutline_no_delete BEFORE DELETE ON affiliate_payoutline
    BEGIN SELECT RAISE(ABORT, 'payout lines are final once paid or failed: DELETE refused'); END;""",
]

_SQLITE_OFF = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "affiliate_payoutbatch_no_update",
        "affiliate_payoutbatch_no_delete",
        "affiliate_payoutline_no_insert",
        "affiliate_payoutline_no_update",
        "affiliate_payoutline_no_delete",
    )
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [_PG] if vendor == "postgresql" else _SQLITE if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql, params=None)  # no placeholders: "%" is PL/pgSQL


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [_PG_OFF] if vendor == "postgresql" else _SQLITE_OFF if vendor == "sqlite" else []
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("affiliate", "0002_portal_onboarding_payouts")]

    operations = [
        migrations.RunPython(forward, backward),
        append_only_operation(["affiliate_payoutitem"], "payout items"),
    ]
