"""Rows for tests, built through the real models."""

from datetime import UTC, datetime

import factory
from django.contrib.auth.models import User

from agents.models import Agent
from calls.models import Call, PhoneNumber
from campaigns.models import Campaign, Consent, Contact, Organization, Target
from tenancy.models import Membership


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Bayview Dental {n}")
    callback_number = "+12025550143"
    time_zone = "America/New_York"


def default_organization() -> Organization:
    """The organisation rows belong to unless a test names one: the first there is, so that
    a member of it (`member_of`) sees them."""
    return Organization.objects.order_by("pk").first() or OrganizationFactory()


def member_of(role: str, username: str | None = None, *, organization=None) -> User:
    """A staff user with `role` (operator, finance or admin) in the organisation."""
    user = User.objects.create_user(username or role, password=f"pw-{role}-123-long", is_staff=True)
    Membership.objects.create(
        user=user, organization=organization or default_organization(), role=role
    )
    return user


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    organization = factory.LazyFunction(default_organization)
    name = factory.Sequence(lambda n: f"Reminder agent {n}")
    instructions = "Remind {{ contact.name }} of the appointment on {{ appointment }}."


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    organization = factory.LazyFunction(default_organization)
    number = factory.Sequence(lambda n: f"+1202555{1000 + n:04d}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.LazyFunction(default_organization)
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

    organization = factory.LazyFunction(default_organization)
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
    campaign = factory.LazyAttribute(lambda call: call.target.campaign if call.target else None)
    attempt = 1
    agent = factory.SelfAttribute("target.campaign.agent")
    from_number = factory.SelfAttribute("target.campaign.caller_id.number")
    to_number = factory.SelfAttribute("target.contact.phone")


def after_visit_survey(organization, *, with_text_question: bool = False):
    """The after-visit survey the sandbox's survey persona answers: yes/no, a scale from one
    to ten and a choice (and a free-text question if asked). Returns (survey, questions)."""
    from campaigns.models import Question, Survey

    survey = Survey.objects.create(organization=organization, name="After your visit")
    texts = [
        {"kind": "yes_no", "text": "Would you recommend us to a friend?"},
        {
            "kind": "scale",
            "text": "On a scale from one to ten, how would you rate your visit?",
            "scale_min": 1,
            "scale_max": 10,
        },
        {
            "kind": "choice",
            "text": "Should we call you in the morning, afternoon or evening?",
            "choices": ["morning", "afternoon", "evening"],
        },
    ]
    if with_text_question:
        texts.append({"kind": "text", "text": "Is there anything we could do better?"})
    questions = [
        Question.objects.create(survey=survey, position=position, **fields)
        for position, fields in enumerate(texts, start=1)
    ]
    return survey, questions


SANDBOX_CALLER_ID = "+12025550100"
AREA_CODES = ("305", "786", "954", "561", "407")  # Florida, Eastern time


def persona_number(persona: str, index: int = 0) -> str:
    """A valid US number the sandbox carrier gives `persona` (by its last two digits)."""
    from sandbox.carrier import PERSONA_BY_LAST_TWO_DIGITS

    digits = {name: last for last, name in PERSONA_BY_LAST_TWO_DIGITS.items()}[persona]
    area = AREA_CODES[index // 100]
    return f"+1{area}555{index % 100:02d}{digits}"


def reminder_campaign(personas, *, tools=None, first_index=0, **campaign_fields) -> Campaign:
    """An organisation calling from the sandbox's number, a reminder agent, and one consented
    contact per persona, targeted by a draft campaign. The contacts' numbers are
    `persona_number(persona, index)` from `first_index` on."""
    from agents.models import default_tools

    organization = OrganizationFactory(name="Bayview Dental", callback_number="+12025550143")
    caller_id = PhoneNumberFactory(organization=organization, number=SANDBOX_CALLER_ID)
    agent = AgentFactory(
        organization=organization,
        name="Reminders",
        instructions=(
            "Remind {{ contact.name }} of their dental appointment on {{ appointment }} and ask "
            "them to confirm it."
        ),
        greeting="Can you confirm your appointment on {{ appointment }}?",
        tools=tools or [*default_tools(), "record_survey_answer"],
        voicemail_message="This is Bayview Dental with a reminder about your appointment. Goodbye.",
    )
    campaign = CampaignFactory(
        organization=organization, agent=agent, caller_id=caller_id, **campaign_fields
    )
    for index, persona in enumerate(personas, start=first_index):
        contact = ContactFactory(
            organization=organization,
            phone=persona_number(persona, index),
            name=f"{persona.replace('_', ' ').title()} Doe",
            variables={"appointment": "Tuesday at nine"},
        )
        ConsentFactory(contact=contact)
        TargetFactory(campaign=campaign, contact=contact)
    return campaign


# A weekday afternoon in every mainland US zone (14:00 Eastern).
TUESDAY_AFTERNOON = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)


def booked_call(personas=("confirm",), **campaign_fields) -> Call:
    """A launched campaign's first call, booked by the tick and not yet dialed."""
    from campaigns.lifecycle import campaign_launch
    from campaigns.scheduling import campaign_tick

    campaign = reminder_campaign(list(personas), **campaign_fields)
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=TUESDAY_AFTERNOON)
    booked = []
    campaign_tick(campaign_id=campaign.pk, at=TUESDAY_AFTERNOON, enqueue_dial=booked.append)
    return Call.objects.get(pk=booked[0])
