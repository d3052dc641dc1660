# Integration moved to the integrations app (issue 6): state only, the table and its rows stay
# (integrations.0001 took them over; integrations.0002 renames the table). The foreign key of
# IngestedEvent keeps its column and constraint; only the model it names changes.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("orders", "0004_daily_stats_status_feedback_reviews"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ingestedevent",
                    name="integration",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="integrations.integration",
                    ),
                ),
                migrations.DeleteModel(name="Integration"),
            ],
            database_operations=[],
        ),
    ]
