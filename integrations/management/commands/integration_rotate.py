"""``manage.py integration_rotate KEY_ID``: a new secret for an integration (SPEC §0).

The previous secret stays valid for ``SC_INTEGRATION_ROTATION_GRACE_HOURS`` (default 24 h) so
the sender can switch without refused requests. Prints the new secret once.
"""

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration
from integrations.services import integration_rotate, rotation_grace


class Command(BaseCommand):
    help = "Rotate an integration's secret; prints the new one (the old one works for a while)."

    def add_arguments(self, parser):
        parser.add_argument("key_id")

    def handle(self, *args, key_id: str, **options):
        integration = Integration.objects.filter(key_id=key_id).first()
        if integration is None:
            raise CommandError(f"No integration with key id {key_id!r}.")
        secret = integration_rotate(integration=integration)
        hours = rotation_grace().total_seconds() / 3600
        self.stdout.write(f"key id:  {integration.key_id}")
        self.stdout.write(f"secret:  {secret}")
        self.stderr.write(
            f"Store the secret now: it is not shown again. "
            f"The previous one works for {hours:g} h more."
        )
