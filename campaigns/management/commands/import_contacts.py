"""Import contacts and their consent from a CSV file, in this process (no worker needed)."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.importing import ImportFileError, ImportReport, contacts_import
from campaigns.models import Organization


def organization_named(value: str) -> Organization:
    """An organisation by id or by its registered name."""
    found = Organization.objects.filter(pk=int(value)) if value.isdigit() else None
    found = found or Organization.objects.filter(name=value)
    if not found:
        raise CommandError(f"No organisation has the id or name {value!r}.")
    return found.get()


class Command(BaseCommand):
    help = "Import contacts and consent from a UTF-8 CSV file (see campaigns/importing.py)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file; its first row names the columns.")
        parser.add_argument("--organization", required=True, help="Organisation id or name.")

    def handle(self, *args, path, organization, **options):
        organization = organization_named(organization)

        def show(report: ImportReport) -> None:
            self.stderr.write(f"\r{report.processed}/{report.total} rows", ending="")

        try:
            with open(path, "rb") as file:
                report = contacts_import(
                    organization_id=organization.pk, file=file, on_progress=show
                )
        except (OSError, ImportFileError) as error:
            raise CommandError(str(error)) from None
        self.stderr.write("")
        for error in report.errors:
            self.stderr.write(str(error))
        if report.rejected > len(report.errors):
            self.stderr.write(f"… and more: {report.rejected} rows refused in all.")
        self.stdout.write(
            f"{report.total} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.rejected} refused."
        )
