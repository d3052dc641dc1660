# The Integration model moves from orders (issue 6). This migration only tells Django's state
# that integrations.Integration exists, in the table orders.0002 created ("orders_integration"),
# so existing rows (and the foreign keys of orders.IngestedEvent) are kept as they are.
# orders.0005_move_integration then drops orders.Integration from the state, and 0002 here
# renames the table to the app's own name.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Integration",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        (
                            "key_id",
                            models.CharField(max_length=64, unique=True, verbose_name="key id"),
                        ),
                        ("secret_encrypted", models.TextField(verbose_name="secret (encrypted)")),
                        (
                            "previous_secret_encrypted",
                            models.TextField(blank=True, verbose_name="previous secret (encrypted)"),
                        ),
                        (
                            "previous_secret_expires_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="previous secret valid until"
                            ),
                        ),
                        ("active", models.BooleanField(default=True, verbose_name="active")),
                        (
                            "rotated_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="rotated at"),
                        ),
                    ],
                    options={
                        "verbose_name": "integration",
                        "verbose_name_plural": "integrations",
                        "ordering": ["name"],
                        "db_table": "orders_integration",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
