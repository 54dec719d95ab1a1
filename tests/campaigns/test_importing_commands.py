"""The import management commands, for files too big to upload."""

import io

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Contact, RegistrySync, Suppression
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_import_contacts_reports_its_counts_and_bad_rows(tmp_path):
    organization = OrganizationFactory(name="Bayview Dental")
    path = tmp_path / "contacts.csv"
    path.write_text("phone,name\n3055550101,Ana\n555-12,Bad\n")
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "import_contacts", str(path), organization="Bayview Dental", stdout=out, stderr=err
    )

    assert out.getvalue().strip() == "2 rows: 1 created, 0 updated, 0 unchanged, 1 refused."
    assert "row 3, phone: '555-12' is not a valid phone number" in err.getvalue()
    assert Contact.objects.get(organization=organization).phone == "+13055550101"


def test_import_registry_streams_a_file_and_records_the_sync(tmp_path):
    organization = OrganizationFactory()
    path = tmp_path / "dnc.txt"
    path.write_text("3052000001\n3052000002\nnope\n")
    out = io.StringIO()

    call_command(
        "import_registry",
        str(path),
        f"--organization={organization.pk}",
        "--source=national_registry",
        "--synced-at=2026-11-10",
        stdout=out,
        stderr=io.StringIO(),
    )

    assert out.getvalue().strip() == (
        "3 lines: 2 numbers, 2 newly listed, 0 already listed, 0 removed, 1 bad lines."
    )
    assert Suppression.objects.count() == 2
    assert RegistrySync.objects.get().numbers == 2


def test_a_missing_file_is_a_clear_command_error():
    OrganizationFactory(name="Bayview Dental")

    with pytest.raises(CommandError, match="No such file"):
        call_command("import_contacts", "/nonexistent.csv", organization="Bayview Dental")
