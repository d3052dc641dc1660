# SPEC M-3: a consent remembers whether the buyer's own marketing preference was on when it was
# recorded or confirmed (switching it off later withdraws the consent). SPEC M-9: the billed
# soft bounces (given up unsent) are counted by their ``bounced_at`` through a small partial
# index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0004_merge_campaigns_import_progress"),
    ]

    operations = [
        migrations.AddField(
            model_name="consent",
            name="buyer_preference_on",
            field=models.BooleanField(
                blank=True, null=True, verbose_name="buyer's marketing preference on at consent"
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("billable", True), ("sent_at__isnull", True)),
                fields=["shop", "bounced_at"],
                name="message_billed_unsent",
            ),
        ),
    ]
