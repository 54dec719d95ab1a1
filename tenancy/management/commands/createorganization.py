"""`manage.py createorganization "NAME" --time-zone ZONE [--currency USD]`: prints the new
organisation's id as the last line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Organization


class Command(BaseCommand):
    help = "Create an organisation and print its id."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The registered business name, stated on every call.")
        parser.add_argument("--time-zone", required=True, help="IANA zone, e.g. America/Chicago")
        parser.add_argument("--currency", default="USD", help="ISO 4217 code (default USD)")
        parser.add_argument(
            "--callback-number", default="", help="E.164 number callers can call back"
        )
        parser.add_argument("--country", default="US", help="Region of national-format numbers")

    def handle(self, *args, name, time_zone, currency, callback_number, country, **options):
        if Organization.objects.filter(name=name).exists():
            raise CommandError(f"An organisation named {name!r} already exists.")
        organization = Organization(
            name=name,
            time_zone=time_zone,
            currency=currency.upper(),
            callback_number=callback_number,
            country=country.upper(),
        )
        try:
            organization.full_clean()
        except ValidationError as error:
            raise CommandError(
                "; ".join(
                    f"{field}: {' '.join(messages)}"
                    for field, messages in error.message_dict.items()
                )
            ) from None
        organization.save()
        self.stderr.write(f"Created organisation {organization.name!r}.")
        self.stdout.write(str(organization.pk))
