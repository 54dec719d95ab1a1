"""Seed the demo: an organisation, its number and agent, a dozen consented contacts across
personas, states and time zones, and a reminder campaign of them, launched.

Run by `voiceops.demo` (as `python -m voiceops.demo_seed`); prints the campaign id.
Safe to run again: the organisation, agent and contacts are reused, a new campaign is made.
"""

import os
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
from campaigns.models import Campaign, Consent, Contact, Organization  # noqa: E402
from campaigns.targeting import campaign_add_targets  # noqa: E402
from tenancy.models import Membership  # noqa: E402
from tenancy.roles import Role  # noqa: E402

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


@transaction.atomic
def seed(*, at: datetime) -> Campaign:
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
    for name, phone, state in CONTACTS:
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
    # Each run shows one campaign: an earlier run's campaign stops calling.
    for earlier in Campaign.objects.filter(
        organization=organization,
        status__in=[Campaign.Status.RUNNING, Campaign.Status.PAUSED, Campaign.Status.DRAFT],
    ):
        campaign_cancel(campaign_id=earlier.pk, at=at)
    campaign = Campaign.objects.create(
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


if __name__ == "__main__":
    print(seed(at=timezone.now()).pk)
