"""`manage.py createapikey --organization "NAME" --role operator|finance|admin [--label TEXT]`:
prints the new key, once, as the last line."""

from django.core.management.base import BaseCommand

from tenancy.management.commands._organization import ROLE_CHOICES, organization_named
from tenancy.models import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organisation and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="The organisation's name")
        parser.add_argument("--role", required=True, choices=ROLE_CHOICES)
        parser.add_argument("--label", default="", help="What the key is for")

    def handle(self, *args, organization, role, label, **options):
        api_key, key = api_key_create(
            organization_id=organization_named(organization).pk, role=role, label=label
        )
        self.stderr.write(
            f"Created {role} key {api_key.prefix}… for {organization!r}. "
            "Store it now: it cannot be shown again."
        )
        self.stdout.write(key)
