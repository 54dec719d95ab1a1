"""Suppression lists streamed from files, and what the compliance engine then decides."""

import io
import tempfile
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.compliance import Verdict
from campaigns.eligibility import target_explanation
from campaigns.models import RegistrySync, Suppression
from campaigns.registry import NanpNormalizer, RegistryFileError, registry_import
from campaigns.revocation import consent_revoke
from tests.factories import ConsentFactory, OrganizationFactory, TargetFactory
from voiceops.phones import InvalidPhoneNumber, normalize_phone

pytestmark = pytest.mark.django_db

SYNCED = datetime(2026, 11, 10, tzinfo=UTC)
# A Tuesday, 11:00 in Miami and 10:00 in the panhandle: inside every calling window.
TUESDAY_MORNING = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)
LINES = 200_000


def registry_file(lines: int):
    """A national registry copy: numbers 305-555-0000 onwards, a bad line every 1000."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    for line in range(1, lines + 1):
        if line % 1000 == 0:
            file.write(b"555-12\n")
        else:
            file.write(f"305{2000000 + line}\n".encode())
    file.seek(0)
    return file


def test_it_streams_a_registry_file_into_suppressions_and_records_the_sync():
    organization = OrganizationFactory()
    progress = []

    with registry_file(LINES) as file:
        report = registry_import(
            organization_id=organization.pk,
            file=file,
            source="national_registry",
            synced_at=SYNCED,
            at=TUESDAY_MORNING,
            on_progress=lambda seen: progress.append(seen.processed),
        )

    bad = LINES // 1000
    listed = Suppression.objects.filter(organization=organization, source="national_registry")
    sync = RegistrySync.objects.get(organization=organization)
    assert (report.total, report.processed) == (LINES, LINES)
    assert (report.numbers, report.created, report.bad_line_count) == (
        LINES - bad,
        LINES - bad,
        bad,
    )
    assert listed.count() == LINES - bad
    assert listed.filter(phone="+13052000001").exists()
    assert (sync.source, sync.synced_at, sync.numbers) == ("national_registry", SYNCED, LINES - bad)
    assert str(report.bad_lines[0]) == (
        "line 1000: '555-12' is not a valid phone number: it has the wrong number of digits"
    )
    assert len(report.bad_lines) == 100
    assert progress == sorted(progress)
    assert len(progress) > 10


def test_a_listed_number_is_denied_for_telemarketing_and_allowed_for_reminders():
    organization = OrganizationFactory(name="Bayview Dental")
    sales = TargetFactory(
        campaign__organization=organization,
        campaign__purpose="telemarketing",
        contact__phone="+13052000001",
        contact__state="FL",
    )
    reminder = TargetFactory(
        campaign__organization=organization,
        campaign__purpose="informational",
        contact=sales.contact,
    )
    ConsentFactory(contact=sales.contact, purpose="telemarketing", is_written=True)
    ConsentFactory(contact=sales.contact, purpose="informational")
    with registry_file(10) as file:
        registry_import(
            organization_id=organization.pk,
            file=file,
            source="national_registry",
            synced_at=SYNCED,
            at=TUESDAY_MORNING,
        )

    sales_decision, sales_rules = target_explanation(sales, at=TUESDAY_MORNING)
    reminder_decision, reminder_rules = target_explanation(reminder, at=TUESDAY_MORNING)

    national = {rule.name: rule for rule in sales_rules}["national_dnc"]
    assert sales_decision.verdict is Verdict.DENY
    assert (national.verdict, national.reason) == (Verdict.DENY, "national_dnc")
    assert {rule.name: rule for rule in reminder_rules}["national_dnc"].verdict is Verdict.ALLOW
    assert reminder_decision.verdict is Verdict.ALLOW


def test_a_full_copy_removes_numbers_no_longer_listed_and_leaves_opt_outs_alone():
    organization = OrganizationFactory()
    consent_revoke(organization_id=organization.pk, phone="+13052000002", via="operator", at=SYNCED)
    first = io.BytesIO(b"3052000001\n3052000002\n3052000003\n")
    second = io.BytesIO(b"# November copy\n305,2000001\n\n3052000004\n3052000004\n")

    registry_import(
        organization_id=organization.pk,
        file=first,
        source="national_registry",
        synced_at=SYNCED,
        at=SYNCED,
    )
    report = registry_import(
        organization_id=organization.pk,
        file=second,
        source="national_registry",
        synced_at=TUESDAY_MORNING,
        replaces_previous=True,
        at=TUESDAY_MORNING,
    )

    listed = Suppression.objects.filter(organization=organization)
    assert (report.numbers, report.created, report.removed, report.bad_line_count) == (2, 1, 2, 0)
    assert sorted(listed.values_list("phone", "source")) == [
        ("+13052000001", "national_registry"),
        ("+13052000002", "opt_out"),
        ("+13052000004", "national_registry"),
    ]
    assert RegistrySync.objects.filter(organization=organization).count() == 2


def test_importing_the_same_list_twice_adds_nothing():
    organization = OrganizationFactory()

    def run():
        return registry_import(
            organization_id=organization.pk,
            file=io.BytesIO(b"3052000001\n3052000002\n"),
            source="state_list",
            state="TX",
            synced_at=SYNCED,
            at=SYNCED,
        )

    first, second = run(), run()

    assert (first.created, second.created, second.already_listed) == (2, 0, 2)
    assert Suppression.objects.filter(source="state_list", state="TX").count() == 2


def test_a_state_list_without_a_state_is_refused_before_reading_the_file():
    organization = OrganizationFactory()

    with pytest.raises(RegistryFileError, match="USPS state code"):
        registry_import(
            organization_id=organization.pk,
            file=io.BytesIO(b"3052000001\n"),
            source="state_list",
            synced_at=SYNCED,
            at=SYNCED,
        )
    assert not Suppression.objects.exists()


@given(number=st.from_regex(r"1?[2-9][0-9]{9}", fullmatch=True), last=st.integers(0, 9999))
@settings(max_examples=3000, deadline=None)
def test_the_fast_path_for_bare_numbers_agrees_with_the_full_parser(number, last):
    normalize = NanpNormalizer("US")
    same_exchange = f"{number[:-4]}{last:04d}"

    def outcome(value: str, parse) -> str:
        try:
            return parse(value)
        except InvalidPhoneNumber as error:
            return f"invalid: {error}"

    warm = outcome(same_exchange, normalize)  # teaches it the exchange when valid

    assert warm == outcome(same_exchange, normalize_phone)
    assert outcome(number, normalize) == outcome(number, normalize_phone)
