# Coin ledger rows are immutable in the database itself, not only in Python (DESIGN §3), as the
# shop balance ledger (shops 0002): an UPDATE or DELETE of a coin movement or entry raises,
# whoever sends it (core/appendonly.py has the triggers).
from django.db import migrations

from core.appendonly import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("coins", "0001_ledger")]

    operations = [
        append_only_operation(("coins_coinmovement", "coins_coinentry"), "coin ledger rows"),
    ]
