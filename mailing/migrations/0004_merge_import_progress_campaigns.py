from django.db import migrations


class Migration(migrations.Migration):
    """Joins the audience's import progress column and the campaigns, built side by side."""

    dependencies = [
        ("mailing", "0002_import_progress_at"),
        ("mailing", "0003_campaigns"),
    ]

    operations = []
