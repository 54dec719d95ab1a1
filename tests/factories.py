"""Rows for tests, built through the real models."""

from datetime import UTC, datetime

import factory

from agents.models import Agent
from calls.models import Call, PhoneNumber
from campaigns.models import Campaign, Consent, Contact, Organization, Target


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Bayview Dental {n}")
    callback_number = "+12025550143"
    time_zone = "America/New_York"


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Reminder agent {n}")
    instructions = "Remind {{ contact.name }} of the appointment on {{ appointment }}."


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"+1202555{1000 + n:04d}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    phone = factory.Sequence(lambda n: f"+1305555{2000 + n:04d}")
    name = factory.Sequence(lambda n: f"Pat Doe {n}")
    state = "FL"


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    contact = factory.SubFactory(ContactFactory)
    purpose = "informational"
    source = "web form"
    captured_at = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Reminders {n}")
    agent = factory.SubFactory(AgentFactory, organization=factory.SelfAttribute("..organization"))
    caller_id = factory.SubFactory(
        PhoneNumberFactory, organization=factory.SelfAttribute("..organization")
    )


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(
        ContactFactory, organization=factory.SelfAttribute("..campaign.organization")
    )


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    organization = factory.SelfAttribute("target.campaign.organization")
    direction = Call.Direction.OUTBOUND
    target = factory.SubFactory(TargetFactory)
    attempt = 1
    agent = factory.SelfAttribute("target.campaign.agent")
    from_number = factory.SelfAttribute("target.campaign.caller_id.number")
    to_number = factory.SelfAttribute("target.contact.phone")
