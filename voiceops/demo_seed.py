"""Seed the demo: an organisation, its number and agent, a dozen consented contacts across
personas, states and time zones, and a reminder campaign of them, launched; and a short
after-visit survey campaign for one patient who answers surveys, launched too.

Run by `voiceops.demo` (as `python -m voiceops.demo_seed [--quick]`); prints the campaign
ids. Safe to run again: the organisation, agents and contacts are reused, new campaigns are
made. The demo's campaigns are created by the inactive user `demo` (shown as "created by"
in the admin); a re-run cancels only those still running, never a campaign someone made
in the demo organisation by hand or through the API. `--quick` calls two of the contacts.
"""

import os
import sys
from datetime import UTC, datetime
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from agents.models import Agent, Tool  # noqa: E402
from calls.models import PhoneNumber  # noqa: E402
from campaigns.lifecycle import campaign_cancel, campaign_launch  # noqa: E402
from campaigns.models import (  # noqa: E402
    Campaign,
    Consent,
    Contact,
    Organization,
    Question,
    Survey,
)
from campaigns.targeting import campaign_add_targets  # noqa: E402
from tenancy.models import Membership  # noqa: E402
from tenancy.roles import Role  # noqa: E402

# Who created the demo's campaigns: how a re-run tells them from anybody else's.
DEMO_USER = "demo"
CALLER_ID = "+12025550100"  # the number the sandbox carrier owns
# A campaign budget the demo reaches (its calls cost about 0.65 in all), so the report shows
# its budget alerts and the pause at 100 %; the per-call cap is the dial's first estimate.
DEMO_BUDGET = "0.50"
DEMO_CALL_CAP = "0.15"

# (name, number, state): the last two digits choose the sandbox persona who answers.
CONTACTS = [
    ("Maria Lopez", "+13055550100", "FL"),  # confirms
    ("James Carter", "+15125550101", "TX"),  # declines
    ("Aiko Tanaka", "+12135550102", "CA"),  # asks to reschedule
    ("Daniel Brooks", "+12125550103", "NY"),  # says "stop calling me"
    ("Priya Shah", "+13125550104", "IL"),  # presses 9 to opt out
    ("Tom Becker", "+12065550105", "WA"),  # interrupts the agent
    ("Grace Kim", "+14045550106", "GA"),  # hangs up mid-call
    ("Luis Ortega", "+16025550107", "AZ"),  # stays silent
    ("Nora Walsh", "+13035550108", "CO"),  # voicemail
    ("Ben Adams", "+16175550110", "MA"),  # does not answer
    ("Olivia Reed", "+16145550111", "OH"),  # busy
    ("Kai Akana", "+18085550113", "HI"),  # asks "are you a robot?"; 08:59 there: waits
    ("Sam Rivera", "+12155550100", "PA"),  # no consent on file: never called
]
NO_CONSENT = {"+12155550100"}
QUICK_CONTACTS = CONTACTS[:2]  # one confirms, one declines: a report in well under a minute


def demo_user() -> User:
    user, _ = User.objects.get_or_create(
        username=DEMO_USER, defaults={"is_active": False, "first_name": "Demo"}
    )
    return user


@transaction.atomic
def seed(*, at: datetime, quick: bool = False) -> Campaign:
    organization, _ = Organization.objects.get_or_create(
        name="Bayview Dental",
        defaults={"callback_number": "+12025550143", "time_zone": "America/New_York"},
    )
    agent, _ = Agent.objects.get_or_create(
        organization=organization,
        name="Appointment reminders",
        defaults={
            "instructions": (
                "You remind {{ contact.name }} of their dental appointment on "
                "{{ appointment }} at Bayview Dental, and ask them to confirm it. Be brief "
                "and friendly. If they cannot come, record that and offer that the office "
                "will call to rebook."
            ),
            "greeting": "Can you confirm your appointment on {{ appointment }}?",
            "tools": [Tool.END_CALL, Tool.RECORD_OUTCOME, Tool.OPT_OUT, Tool.SCHEDULE_CALLBACK],
            "voicemail_message": "This is Bayview Dental with a reminder about your "
            "upcoming appointment. Please call us back. Goodbye.",
            "max_cost_per_call": DEMO_CALL_CAP,
        },
    )
    if agent.max_cost_per_call != Decimal(DEMO_CALL_CAP):  # a database seeded before
        agent.max_cost_per_call = DEMO_CALL_CAP
        agent.save(update_fields=["max_cost_per_call"])
    finance, _ = User.objects.get_or_create(
        username="finance", defaults={"email": "finance@bayview-dental.example"}
    )
    Membership.objects.get_or_create(
        user=finance, organization=organization, defaults={"role": Role.FINANCE}
    )
    number, _ = PhoneNumber.objects.get_or_create(
        number=CALLER_ID,
        defaults={
            "organization": organization,
            "label": "Front desk",
            "is_caller_id": True,
            "is_inbound": True,
            "inbound_agent": agent,
        },
    )
    contacts = []
    for name, phone, state in QUICK_CONTACTS if quick else CONTACTS:
        contact, _ = Contact.objects.get_or_create(
            organization=organization,
            phone=phone,
            defaults={
                "name": name,
                "state": state,
                "variables": {"appointment": "Thursday at 10 a.m."},
            },
        )
        contacts.append(contact)
        if phone not in NO_CONSENT:
            Consent.objects.get_or_create(
                contact=contact,
                purpose="informational",
                defaults={
                    "source": "patient intake form",
                    "evidence": "Signed intake form: 'You may call me about my appointments.'",
                    "captured_at": datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
                },
            )
    # Each run shows its own campaigns: an earlier run's stop calling. Only the demo's own:
    # campaigns made by hand in this organisation are left as they are.
    creator = demo_user()
    for earlier in Campaign.objects.filter(
        organization=organization,
        created_by=creator,
        status__in=[Campaign.Status.RUNNING, Campaign.Status.PAUSED, Campaign.Status.DRAFT],
    ):
        campaign_cancel(campaign_id=earlier.pk, at=at)
    campaign = Campaign.objects.create(
        created_by=creator,
        organization=organization,
        name=f"Appointment reminders {at:%Y-%m-%d %H:%M}",
        kind=Campaign.Kind.REMINDER,
        purpose="informational",
        agent=agent,
        caller_id=number,
        max_concurrent_calls=6,
        calls_per_second=1,
        budget=DEMO_BUDGET,
    )
    campaign_add_targets(
        campaign_id=campaign.pk, contact_ids=[contact.pk for contact in contacts], run_at_once=True
    )
    return campaign_launch(campaign_id=campaign.pk, user_id=None, at=at)


SURVEY_CONTACT = ("Rosa Diaz", "+13055550109", "FL")  # answers survey questions
SURVEY_QUESTIONS = [
    {"kind": "yes_no", "text": "Would you recommend Bayview Dental to a friend?"},
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


@transaction.atomic
def seed_survey(*, organization: Organization, caller_id: PhoneNumber, at: datetime) -> Campaign:
    """The after-visit survey: its questions, its agent, one patient, a launched campaign."""
    survey, _ = Survey.objects.get_or_create(organization=organization, name="After your visit")
    for position, question in enumerate(SURVEY_QUESTIONS, start=1):
        Question.objects.get_or_create(survey=survey, position=position, defaults=question)
    agent, _ = Agent.objects.get_or_create(
        organization=organization,
        name="After-visit survey",
        defaults={
            "instructions": "You ask {{ contact.name }} a short survey about their recent visit "
            "to Bayview Dental. Be brief and friendly.",
            "greeting": "",
            "tools": [Tool.END_CALL, Tool.RECORD_SURVEY_ANSWER, Tool.OPT_OUT],
            "max_cost_per_call": "0.50",
        },
    )
    name, phone, state = SURVEY_CONTACT
    contact, _ = Contact.objects.get_or_create(
        organization=organization, phone=phone, defaults={"name": name, "state": state}
    )
    Consent.objects.get_or_create(
        contact=contact,
        purpose="survey",
        defaults={
            "source": "checkout desk",
            "evidence": "Ticked 'You may call me for feedback after my visit.'",
            "captured_at": datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
        },
    )
    campaign = Campaign.objects.create(
        created_by=demo_user(),
        organization=organization,
        name=f"After-visit survey {at:%Y-%m-%d %H:%M}",
        kind=Campaign.Kind.SURVEY,
        purpose="survey",
        survey=survey,
        agent=agent,
        caller_id=caller_id,
        max_concurrent_calls=1,
        calls_per_second=1,
    )
    campaign_add_targets(campaign_id=campaign.pk, contact_ids=[contact.pk])
    return campaign_launch(campaign_id=campaign.pk, user_id=None, at=at)


if __name__ == "__main__":
    now = timezone.now()
    reminders = seed(at=now, quick="--quick" in sys.argv[1:])
    survey = seed_survey(organization=reminders.organization, caller_id=reminders.caller_id, at=now)
    print(reminders.pk, survey.pk)
