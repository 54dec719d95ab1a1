"""Priced calls for the finance report's tests: two organisations, a reminder and a survey
campaign, calls around New York's midnights that ended every way a call ends, and a
hostile contact and campaign name."""

import random
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from calls.costs import ANALYSIS, TELEPHONY, call_price
from calls.models import Call, CallStatus, CostEntry
from campaigns.models import Campaign
from tests.factories import (
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    TargetFactory,
    after_visit_survey,
)

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
HOSTILE_CAMPAIGN = '=HYPERLINK("http://evil.example/x","Refund")'
HOSTILE_CONTACT = "<script>alert(1)</script>"

# (status, answered_by, outcome): every way a call ends that finance tells apart.
ENDINGS = [
    (CallStatus.COMPLETED, "human", "confirmed"),
    (CallStatus.COMPLETED, "human", "survey_completed"),
    (CallStatus.COMPLETED, "human", "declined"),
    (CallStatus.COMPLETED, "machine_end_beep", "voicemail"),
    (CallStatus.NO_ANSWER, "", ""),
    (CallStatus.BUSY, "", ""),
    (CallStatus.FAILED, "", ""),
]
# Around New York's midnight between 11 and 12 November (EST: UTC-5), and outside the
# 11th-12th: 10 November late evening and 13 November just after midnight.
INSTANTS = [
    datetime(2026, 11, 11, 4, 50, tzinfo=UTC),  # 10 November, 23:50 in New York
    datetime(2026, 11, 11, 5, 10, tzinfo=UTC),  # 11 November, 00:10
    datetime(2026, 11, 12, 4, 55, tzinfo=UTC),  # 11 November, 23:55
    datetime(2026, 11, 12, 5, 5, tzinfo=UTC),  # 12 November, 00:05
    datetime(2026, 11, 12, 20, 0, tzinfo=UTC),  # 12 November, 15:00
    datetime(2026, 11, 13, 5, 1, tzinfo=UTC),  # 13 November, 00:01
]
FIRST, LAST = date(2026, 11, 11), date(2026, 11, 12)


@dataclass
class World:
    organization: object
    reminders: Campaign
    survey: Campaign
    other_campaign: Campaign
    calls: list


def priced_call(campaign, *, started_at, ending, rng, contact_name=None) -> Call:
    status, answered_by, outcome = ending
    answered = status == CallStatus.COMPLETED
    target = TargetFactory(campaign=campaign)
    if contact_name:
        target.contact.name = contact_name
        target.contact.save(update_fields=["name"])
    call = CallFactory(
        target=target,
        status=status,
        answered_by=answered_by,
        outcome=outcome,
        carrier_sid=f"CA{rng.getrandbits(64):032x}",
        answered_at=started_at + timedelta(seconds=10) if answered else None,
        ended_at=started_at + timedelta(seconds=70),
        duration_seconds=rng.randint(5, 300) if answered else 0,
        audio_input_tokens=rng.randint(0, 5000) if answered else 0,
        audio_output_tokens=rng.randint(0, 5000) if answered else 0,
        text_input_tokens=rng.randint(0, 3000) if answered else 0,
        analysis_input_tokens=rng.randint(0, 2000) if answered else 0,
        analysis_output_tokens=rng.randint(0, 300) if answered else 0,
    )
    Call.objects.filter(pk=call.pk).update(created_at=started_at)
    return call_price(call_id=call.pk)


def build_world(seed: int = 7) -> World:
    rng = random.Random(seed)
    organization = OrganizationFactory(name="Bayview Dental", time_zone="America/New_York")
    reminders = CampaignFactory(organization=organization, name=HOSTILE_CAMPAIGN)
    survey, _ = after_visit_survey(organization)
    survey_campaign = CampaignFactory(
        organization=organization, name="After-visit survey", kind="survey", survey=survey
    )
    calls = []
    for index, at in enumerate(INSTANTS):
        for ending in ENDINGS:
            campaign = survey_campaign if ending[2] == "survey_completed" else reminders
            if ending[2] == "declined" and index % 2:
                campaign = survey_campaign
            calls.append(
                priced_call(
                    campaign,
                    started_at=at + timedelta(minutes=rng.randint(0, 3)),
                    ending=ending,
                    rng=rng,
                    contact_name=HOSTILE_CONTACT if index == 2 else None,
                )
            )
    # The carrier charged more than we estimated for one call of the hostile contact.
    differing = next(call for call in calls if call.target.contact.name == HOSTILE_CONTACT)
    Call.objects.filter(pk=differing.pk).update(
        carrier_price=Decimal("0.5"), carrier_price_unit="USD"
    )
    other = OrganizationFactory(name="Rival Clinic", time_zone="America/New_York")
    other_campaign = CampaignFactory(organization=other, name="Rival reminders")
    for at in INSTANTS:
        priced_call(other_campaign, started_at=at, ending=ENDINGS[0], rng=rng)
    return World(organization, reminders, survey_campaign, other_campaign, calls)


def local_day(call: Call) -> date:
    return call.created_at.astimezone(NEW_YORK).date()


def ledger_lines(organization, *, first=FIRST, last=LAST, campaign=None) -> list[CostEntry]:
    """The ledger's lines of the filter, picked the slow, obvious way."""
    lines = CostEntry.objects.filter(call__organization=organization).select_related("call__target")
    return [
        line
        for line in lines
        if first <= local_day(line.call) <= last
        and (campaign is None or (line.call.target and line.call.target.campaign_id == campaign.pk))
    ]


def ledger_sums(lines) -> dict[str, Decimal]:
    sums = defaultdict(Decimal)
    for line in lines:
        group = (
            "telephony"
            if line.component in TELEPHONY
            else "analysis"
            if line.component in ANALYSIS
            else "model"
        )
        sums[group] += line.amount
        sums["total"] += line.amount
    return dict(sums)
