# The table takes the app's name (integrations_integration); rows, ids and the foreign keys
# pointing at it are kept (PostgreSQL and SQLite both rename in place). The admin's content
# type and its permissions move too, so staff who could manage integrations still can.

from django.db import migrations


def _move_content_type(apps, schema_editor, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=new, model="integration").exists():
        return  # post_migrate already created the new one (nothing to carry over)
    ContentType.objects.using(db).filter(app_label=old, model="integration").update(app_label=new)


def forwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, old="orders", new="integrations")


def backwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, old="integrations", new="orders")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("integrations", "0001_initial"),
        ("orders", "0005_move_integration"),
    ]

    operations = [
        migrations.AlterModelTable(name="integration", table=None),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
