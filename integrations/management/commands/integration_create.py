"""``manage.py integration_create NAME``: a new integration, an API client (SPEC §0).

Prints the key id and the secret once; the secret is stored encrypted and cannot be shown
again (rotate it with ``integration_rotate`` if it is lost).
"""

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from integrations.services import integration_create


class Command(BaseCommand):
    help = "Create a marketplace integration; prints its key id and secret (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name for people, e.g. 'AliExpress feed'.")

    def handle(self, *args, name: str, **options):
        try:
            integration, secret = integration_create(name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"name:    {integration.name}")
        self.stdout.write(f"key id:  {integration.key_id}")
        self.stdout.write(f"secret:  {secret}")
        self.stderr.write("Store the secret now: it is not shown again.")
