"""Import a do-not-call registry copy or an internal list, streaming (no worker needed)."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns.management.commands.import_contacts import organization_named
from campaigns.registry import LISTS, RegistryFileError, RegistryReport, registry_import


def registry_date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date such as 2026-11-01.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Import a suppression list file: one number per line (see campaigns/registry.py)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--organization", required=True, help="Organisation id or name.")
        parser.add_argument("--source", required=True, choices=[str(source) for source in LISTS])
        parser.add_argument("--state", default="", help="USPS code, for a state list.")
        parser.add_argument(
            "--synced-at", type=registry_date, help="The registry's date for this copy (UTC)."
        )
        parser.add_argument(
            "--full-copy",
            action="store_true",
            help="Remove numbers of this list that the file no longer holds.",
        )

    def handle(self, *args, path, organization, source, state, synced_at, full_copy, **options):
        organization = organization_named(organization)

        def show(report: RegistryReport) -> None:
            self.stderr.write(f"\r{report.processed}/{report.total} lines", ending="")

        try:
            with open(path, "rb") as file:
                report = registry_import(
                    organization_id=organization.pk,
                    file=file,
                    source=source,
                    state=state.upper(),
                    synced_at=synced_at,
                    replaces_previous=full_copy,
                    at=timezone.now(),
                    on_progress=show,
                )
        except (OSError, RegistryFileError) as error:
            raise CommandError(str(error)) from None
        self.stderr.write("")
        for bad in report.bad_lines:
            self.stderr.write(str(bad))
        self.stdout.write(
            f"{report.total} lines: {report.numbers} numbers, {report.created} newly listed, "
            f"{report.already_listed} already listed, {report.removed} removed, "
            f"{report.bad_line_count} bad lines."
        )
