# Joins the set-up and audience branches' first migrations (the lead may renumber instead).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0001_initial"),
        ("mailing", "0001_audience"),
    ]

    operations = []
