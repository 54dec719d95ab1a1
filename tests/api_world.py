"""Two organisations with one of everything the API serves, and API keys of every role:
the rows that tests of scoping, roles and cost visibility look for (or must not find)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from rest_framework.test import APIClient

from calls.models import CallEvent, CostEntry, RateCard, Turn
from campaigns.models import ImportJob, Question, RegistrySync, Suppression, Survey
from tenancy.models import api_key_create
from tests.factories import (
    CallFactory,
    CampaignFactory,
    ConsentFactory,
    ContactFactory,
    OrganizationFactory,
    TargetFactory,
)

ROLES = ("operator", "finance", "admin")


@dataclass
class World:
    """One organisation's rows, by resource, and an API client per role."""

    organization: object
    contact: object
    import_job: object
    suppression: object
    registry_sync: object
    agent: object
    survey: object
    phone_number: object
    campaign: object
    target: object
    call: object
    keys: dict

    def api(self, role: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.keys[role]}")
        return client


def rate_card() -> RateCard:
    return RateCard.objects.get_or_create(
        component="carrier_minute",
        model="",
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        defaults={"unit": "minute", "price": Decimal("0.014")},
    )[0]


def world(name: str, *, phone_prefix: str) -> World:
    organization = OrganizationFactory(name=name)
    campaign = CampaignFactory(organization=organization, name=f"{name} reminders")
    contact = ContactFactory(organization=organization, phone=f"{phone_prefix}0001")
    ConsentFactory(contact=contact)
    target = TargetFactory(campaign=campaign, contact=contact)
    survey = Survey.objects.create(organization=organization, name=f"{name} survey")
    Question.objects.create(survey=survey, position=1, kind="yes_no", text="Did it help?")
    call = CallFactory(
        target=target,
        status="completed",
        outcome="confirmed",
        answered_by="human",
        duration_seconds=60,
        cost_telephony=Decimal("0.014"),
        cost_total=Decimal("0.014"),
    )
    Turn.objects.create(call=call, speaker="agent", text="Hello from " + name, started_ms=0)
    CallEvent.objects.create(
        call=call,
        at=datetime(2026, 11, 24, 19, 0, tzinfo=UTC),
        kind="status",
        to_status="completed",
    )
    CostEntry.objects.create(
        call=call,
        component="carrier_minute",
        quantity=Decimal("1"),
        unit="minute",
        unit_price=Decimal("0.014"),
        amount=Decimal("0.014"),
        rate_card=rate_card(),
    )
    return World(
        organization=organization,
        contact=contact,
        import_job=ImportJob.objects.create(
            organization=organization, kind="contacts", file="x.csv", file_name="x.csv"
        ),
        suppression=Suppression.objects.create(
            organization=organization, phone=f"{phone_prefix}0099", source="internal"
        ),
        registry_sync=RegistrySync.objects.create(
            organization=organization,
            source="national_registry",
            synced_at=datetime(2026, 11, 10, tzinfo=UTC),
            numbers=10,
        ),
        agent=campaign.agent,
        survey=survey,
        phone_number=campaign.caller_id,
        campaign=campaign,
        target=target,
        call=call,
        keys={
            role: api_key_create(organization_id=organization.pk, role=role)[1] for role in ROLES
        },
    )
