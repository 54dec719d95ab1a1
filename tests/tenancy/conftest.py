"""Two organisations on one install, each with one row of every model people reach in the
admin, and members of each role."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from calls.models import (
    CallEvent,
    CampaignDailyCost,
    CostEntry,
    RateCard,
    Recording,
    SurveyAnswer,
    Turn,
    WebhookDelivery,
    WebhookEndpoint,
)
from campaigns.models import (
    BudgetAlert,
    ImportJob,
    Question,
    RegistrySync,
    Suppression,
    Survey,
    TargetingJob,
)
from tenancy.models import Membership, api_key_create
from tests.factories import (
    CallFactory,
    CampaignFactory,
    ConsentFactory,
    ContactFactory,
    OrganizationFactory,
    TargetFactory,
    member_of,
)

AT = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)


@dataclass
class Organisation:
    """One organisation and one row of each of its models, by model label."""

    organization: object
    rows: dict

    def __getitem__(self, label: str):
        return self.rows[label]


def rows_of(organization, rate_card, *, phone_prefix: str) -> Organisation:
    campaign = CampaignFactory(organization=organization, name=f"Flu shots of {organization}")
    contact = ContactFactory(organization=organization, phone=f"{phone_prefix}0001")
    consent = ConsentFactory(contact=contact)
    target = TargetFactory(campaign=campaign, contact=contact)
    call = CallFactory(target=target, cost_total=Decimal("0.123400"))
    survey = Survey.objects.create(organization=organization, name=f"Survey of {organization}")
    job = ImportJob(organization=organization, kind="contacts", file_name="october.csv")
    job.file.save("october.csv", ContentFile(b"phone\n"), save=False)
    job.save()
    api_key, _ = api_key_create(organization_id=organization.pk, role="operator", label="CRM")
    question = Question.objects.create(
        survey=survey, position=1, kind="yes_no", text="Did the visit go well?"
    )
    rows = {
        "campaigns.organization": organization,
        "campaigns.contact": contact,
        "campaigns.consent": consent,
        "campaigns.suppression": Suppression.objects.create(
            organization=organization, phone=f"{phone_prefix}0002", source="internal"
        ),
        "campaigns.registrysync": RegistrySync.objects.create(
            organization=organization, source="national_registry", synced_at=AT
        ),
        "campaigns.survey": survey,
        "campaigns.question": question,
        "campaigns.campaign": campaign,
        "campaigns.target": target,
        "campaigns.importjob": job,
        "campaigns.targetingjob": TargetingJob.objects.create(
            organization=organization, campaign=campaign, all_contacts=True, status="done"
        ),
        "agents.agent": campaign.agent,
        "calls.phonenumber": campaign.caller_id,
        "calls.call": call,
        "calls.surveyanswer": SurveyAnswer.objects.create(
            call=call, question=question, source="call", boolean_value=True
        ),
        "campaigns.budgetalert": BudgetAlert.objects.create(
            organization=organization,
            campaign=campaign,
            scope="campaign",
            threshold=80,
            budget=Decimal("10"),
            spent=Decimal("8.1"),
            created_at=AT,
        ),
        "calls.callevent": CallEvent.objects.create(call=call, at=AT, kind="status"),
        "calls.recording": Recording.objects.create(
            call=call,
            sid=f"RE{phone_prefix[1:]}" + "0" * 24,
            status="completed",
            duration_seconds=42,
            carrier_url=f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE{phone_prefix[1:]}",
        ),
        "calls.turn": Turn.objects.create(
            call=call, speaker="agent", text="Hello from the clinic", started_ms=0
        ),
        "calls.costentry": CostEntry.objects.create(
            call=call,
            component="carrier_minute",
            quantity=Decimal("1.0000"),
            unit="minute",
            unit_price=Decimal("0.014000"),
            amount=Decimal("0.014000"),
            rate_card=rate_card,
        ),
        "calls.ratecard": rate_card,
        "calls.campaigndailycost": CampaignDailyCost.objects.create(
            organization=organization,
            campaign=campaign,
            day=AT.date(),
            calls=1,
            cost_telephony=Decimal("0.014"),
            cost_total=Decimal("0.014"),
        ),
        "calls.webhookendpoint": WebhookEndpoint.objects.create(
            organization=organization, url=f"https://hooks.example.com/{phone_prefix}"
        ),
        "calls.webhookdelivery": WebhookDelivery.objects.create(
            organization=organization,
            event="call.completed",
            payload={"call": call.pk},
            created_at=AT,
        ),
        "tenancy.apikey": api_key,
    }
    return Organisation(organization, rows)


@pytest.fixture(autouse=True)
def uploads_in_a_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(
        ImportJob._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path)
    )


@pytest.fixture
def two_organizations(db):
    """(ours, theirs): Bayview (whose members the tests log in as) and Harbor."""
    rate_card = RateCard.objects.create(
        component="carrier_minute", unit="minute", price=Decimal("0.014"), effective_from=AT
    )
    ours = rows_of(OrganizationFactory(name="Bayview Dental"), rate_card, phone_prefix="+1305555")
    theirs = rows_of(OrganizationFactory(name="Harbor Clinic"), rate_card, phone_prefix="+1786555")
    for side, username in [(ours, "bayview-admin"), (theirs, "harbor-admin")]:
        user = member_of("admin", username, organization=side.organization)
        side.rows["tenancy.membership"] = Membership.objects.get(user=user)
    return ours, theirs


@pytest.fixture
def ours(two_organizations):
    return two_organizations[0]


@pytest.fixture
def theirs(two_organizations):
    return two_organizations[1]


@pytest.fixture
def admin_of_ours(ours):
    return ours["tenancy.membership"].user


@pytest.fixture
def operator_of_ours(ours):
    return member_of("operator", "bayview-operator", organization=ours.organization)


@pytest.fixture
def finance_of_ours(ours):
    return member_of("finance", "bayview-finance", organization=ours.organization)
