"""Contacts and consent from CSV: good rows in, bad rows reported, re-import changes nothing."""

import io
from datetime import UTC, datetime

import pytest
from django.db import connection

from campaigns.importing import ImportFileError, contacts_import
from campaigns.models import Consent, Contact
from tests.factories import ConsentFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

MIXED = """\
Phone,Name,State,Postal Code,Language,Consent Purpose,Consent Written,Consent Seller Named,Consent Source,Consent Evidence,Consent Captured At,Appointment,Clinic
(305) 555-0101,Ana Ruiz,fl,33101,es,informational,no,,web form,form #88,2026-01-05T10:00:00-05:00,Tue 9am,Downtown
555-12,Bad Number,FL,,,,,,,,,,
305-555-0102,Ben Ode,TX,75001,en,telemarketing,yes,Bayview Dental 0,paper form,scan 12.pdf,2026-01-06 09:30,Wed 2pm,
305-555-0103,Cy Tran,ZZ,,,,,,,,,,
(305) 555-0101,Ana Again,FL,,,,,,,,,,
305-555-0104,Di Lee,CA,,,marketing,,,web,,2026-01-05,,
305-555-0105,Ed Kim,FL,,,survey,maybe,,web,,2026-01-05,,
305-555-0106,Flo Ng,NY,10001,,survey,,,web,,2099-01-01,,
"""


def upload(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


@pytest.fixture
def organization():
    return OrganizationFactory(name="Bayview Dental 0", time_zone="America/New_York")


def test_it_imports_the_good_rows_and_reports_each_bad_one(organization):
    report = contacts_import(organization_id=organization.pk, file=upload(MIXED))

    assert sorted(Contact.objects.values_list("phone", flat=True)) == [
        "+13055550101",
        "+13055550102",
    ]
    assert [str(error) for error in report.errors] == [
        "row 3, Phone: '555-12' is not a valid phone number: it has the wrong number of digits",
        "row 5, State: 'ZZ' is not a USPS state code such as 'TX'",
        "row 6, Phone: +13055550101 already appears on row 2; list each contact once",
        "row 7, Consent Purpose: 'marketing' is not a purpose; use informational, survey, "
        "telemarketing",
        "row 8, Consent Written: 'maybe' is not yes or no",
        "row 9, Consent Captured At: '2099-01-01' is in the future",
    ]
    assert (report.total, report.processed) == (8, 8)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 6)


def test_it_stores_consent_fields_and_keeps_other_columns_as_variables(organization):
    contacts_import(organization_id=organization.pk, file=upload(MIXED))

    ana = Contact.objects.get(phone="+13055550101")
    ben = Contact.objects.get(phone="+13055550102")
    assert (ana.name, ana.state, ana.postal_code, ana.language) == ("Ana Ruiz", "FL", "33101", "es")
    assert ana.variables == {"Appointment": "Tue 9am", "Clinic": "Downtown"}
    assert ben.variables == {"Appointment": "Wed 2pm"}
    consent = ben.consents.get()
    assert consent.purpose == "telemarketing"
    assert consent.is_written is True
    assert consent.seller_named == "Bayview Dental 0"
    assert consent.source == "paper form"
    assert consent.evidence == "scan 12.pdf"
    # A time without an offset is read in the organisation's zone (EST in January).
    assert consent.captured_at == datetime(2026, 1, 6, 14, 30, tzinfo=UTC)
    assert ana.consents.get().captured_at == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    assert ana.consents.get().is_written is False


def test_it_changes_nothing_when_the_same_file_is_imported_again(organization):
    contacts_import(organization_id=organization.pk, file=upload(MIXED))
    contacts_before = list(Contact.objects.order_by("pk").values())
    consents_before = list(Consent.objects.order_by("pk").values())

    again = contacts_import(organization_id=organization.pk, file=upload(MIXED))

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 6)
    assert list(Contact.objects.order_by("pk").values()) == contacts_before
    assert list(Consent.objects.order_by("pk").values()) == consents_before


def test_it_updates_a_contact_whose_row_changed_and_counts_it(organization):
    contacts_import(organization_id=organization.pk, file=upload(MIXED))
    ana = Contact.objects.get(phone="+13055550101")
    changed = MIXED.replace("Ana Ruiz,fl,33101", "Ana Ruiz-Vega,fl,33101")

    report = contacts_import(organization_id=organization.pk, file=upload(changed))

    renamed = Contact.objects.get(phone="+13055550101")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert renamed.name == "Ana Ruiz-Vega"
    assert renamed.updated_at > ana.updated_at
    assert renamed.variables == ana.variables


def test_an_empty_cell_keeps_what_is_on_file(organization):
    ContactFactory(
        organization=organization,
        phone="+13055550101",
        name="Ana",
        state="FL",
        variables={"Appointment": "Mon"},
    )
    report = contacts_import(
        organization_id=organization.pk,
        file=upload("phone,name,state,appointment\n3055550101,,,\n"),
    )

    ana = Contact.objects.get(phone="+13055550101")
    assert report.unchanged == 1
    assert (ana.name, ana.state, ana.variables) == ("Ana", "FL", {"Appointment": "Mon"})


def test_headers_are_matched_whatever_their_case_and_a_bom_is_accepted(organization):
    report = contacts_import(
        organization_id=organization.pk,
        file=upload("\ufeffPHONE,NAME,Zip\n305 555 0107,Gus,33101\n"),
    )

    gus = Contact.objects.get()
    assert report.created == 1
    assert (gus.phone, gus.name, gus.postal_code) == ("+13055550107", "Gus", "33101")


def test_a_file_without_a_phone_column_is_refused_before_anything_is_written(organization):
    with pytest.raises(ImportFileError, match="no phone column"):
        contacts_import(
            organization_id=organization.pk, file=upload("name,mobile phone\nAna,3055550101\n")
        )
    assert Contact.objects.count() == 0


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_error(organization):
    rows = "phone,name\n" + "".join(f"305555{1000 + n},Ana\n" for n in range(600))
    latin1 = rows + "3055552000,José\n"

    with pytest.raises(ImportFileError, match=r"not UTF-8 text: line 602 .*CSV UTF-8"):
        contacts_import(organization_id=organization.pk, file=upload(latin1, "latin-1"))
    assert Contact.objects.count() == 0


def test_a_consent_revoked_after_the_files_date_is_not_restored(organization):
    consent = ConsentFactory(
        contact__organization=organization,
        contact__phone="+13055550108",
        purpose="informational",
        captured_at=datetime(2026, 1, 1, tzinfo=UTC),
        revoked_at=datetime(2026, 2, 1, tzinfo=UTC),
        revoked_via="call",
    )
    older = "phone,purpose,source,captured_at\n3055550108,informational,web,2026-01-01T00:00Z\n"
    newer = "phone,purpose,source,captured_at\n3055550108,informational,web,2026-03-01T00:00Z\n"

    unchanged = contacts_import(organization_id=organization.pk, file=upload(older))
    refused = contacts_import(organization_id=organization.pk, file=upload(newer))

    consent.refresh_from_db()
    assert unchanged.unchanged == 1
    assert [str(error) for error in refused.errors] == [
        "row 2, captured_at: informational consent of +13055550108 was revoked on "
        "2026-02-01 00:00 UTC (call); an import cannot restore it"
    ]
    assert consent.revoked_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert consent.captured_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_row_the_database_refuses_leaves_neither_contact_nor_consent(organization):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_fax_consent() RETURNS trigger AS $$
            BEGIN
                IF NEW.source = 'fax' THEN RAISE EXCEPTION 'fax evidence is not accepted'; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_fax BEFORE INSERT ON campaigns_consent
                FOR EACH ROW EXECUTE FUNCTION refuse_fax_consent();
            """
        )
    file = upload(
        "phone,purpose,source,captured_at\n"
        "3055550109,informational,web,2026-01-05\n"
        "3055550110,informational,fax,2026-01-05\n"
        "3055550111,survey,web,2026-01-05\n"
    )

    report = contacts_import(organization_id=organization.pk, file=file)

    assert sorted(Contact.objects.values_list("phone", flat=True)) == [
        "+13055550109",
        "+13055550111",
    ]
    assert Consent.objects.count() == 2
    assert [(error.row, error.message) for error in report.errors] == [
        (3, "the database refused it: fax evidence is not accepted")
    ]
    assert (report.created, report.rejected) == (2, 1)


def test_it_reports_progress_for_a_large_file(organization):
    rows = "phone\n" + "".join(f"30555{50000 + n}\n" for n in range(1200))
    seen = []

    report = contacts_import(
        organization_id=organization.pk,
        file=upload(rows),
        on_progress=lambda progress: seen.append((progress.processed, progress.total)),
    )

    assert report.created == 1200
    assert seen[0] == (0, 1200)
    assert seen[-1] == (1200, 1200)
    assert len(seen) > 3
    assert Contact.objects.filter(organization=organization).count() == 1200


def test_the_language_column_is_stored_as_a_canonical_tag_and_a_bad_one_is_reported(
    organization,
):
    rows = "Phone,Language\n305-555-0101,fr_ca\n305-555-0102,ES\n305-555-0103,Klingon!\n"

    report = contacts_import(organization_id=organization.pk, file=upload(rows))

    assert dict(Contact.objects.values_list("phone", "language")) == {
        "+13055550101": "fr-CA",
        "+13055550102": "es",
    }
    assert [str(error) for error in report.errors] == [
        "row 4, Language: 'Klingon!' is not a language tag such as 'en', 'es' or 'fr-CA' "
        "(BCP 47: a language, then optionally a script and a region, joined by hyphens)"
    ]
