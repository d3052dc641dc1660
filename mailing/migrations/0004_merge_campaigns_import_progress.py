# The campaigns (0003) and the import progress time (0002_import_progress_at) were made on
# two branches; this joins them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0002_import_progress_at"),
        ("mailing", "0003_campaigns"),
    ]

    operations = []
