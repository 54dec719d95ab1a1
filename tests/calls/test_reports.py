"""Finance's month of costs per campaign per day: read from the daily roll-up, equal to the
ledger's own lines over the same filter, in the organisation's days, and nobody else's."""

import random
import zoneinfo
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from calls.costs import call_price
from calls.daily_costs import daily_costs_rebuild
from calls.models import Call, CallStatus, CostEntry
from calls.reports import BadPeriod, campaign_daily_costs
from tests.factories import (
    AgentFactory,
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def finished_call(campaign, *, started_at: datetime, rng: random.Random) -> Call:
    call = CallFactory(
        target=TargetFactory(campaign=campaign),
        status=CallStatus.COMPLETED,
        answered_at=started_at + timedelta(seconds=10),
        ended_at=started_at + timedelta(seconds=70),
        duration_seconds=rng.randint(5, 300),
        audio_input_tokens=rng.randint(0, 5000),
        audio_output_tokens=rng.randint(0, 5000),
        text_input_tokens=rng.randint(0, 3000),
        text_output_tokens=rng.randint(0, 500),
    )
    Call.objects.filter(pk=call.pk).update(created_at=started_at)
    return call


def inbound_call(organization, *, started_at: datetime) -> Call:
    call = Call.objects.create(
        organization=organization,
        direction=Call.Direction.INBOUND,
        agent=AgentFactory(organization=organization),
        from_number="+13055550123",
        to_number="+12025550100",
        status=CallStatus.COMPLETED,
        answered_at=started_at,
        ended_at=started_at + timedelta(minutes=2),
        duration_seconds=120,
        audio_input_tokens=900,
    )
    Call.objects.filter(pk=call.pk).update(created_at=started_at)
    return call


def ledger_by_campaign_and_day(organization) -> dict:
    """The ledger's lines summed the slow, obvious way: each line by its call's campaign and
    the organisation's local day of the call's start."""
    sums = defaultdict(Decimal)
    entries = CostEntry.objects.filter(call__organization=organization).select_related(
        "call__target"
    )
    for entry in entries:
        call = entry.call
        day = call.created_at.astimezone(NEW_YORK).date()
        if day.month == 11:
            sums[(call.target.campaign_id if call.target else None, day)] += entry.amount
    return dict(sums)


def test_a_month_of_costs_per_campaign_per_day_equals_the_ledger():
    rng = random.Random(9)
    organization = OrganizationFactory(time_zone="America/New_York")
    agent = AgentFactory(organization=organization)
    campaigns = [CampaignFactory(organization=organization, agent=agent) for _ in range(2)]
    # Around New York's midnights and the month's edges (EDT until 1 November 06:00 UTC).
    instants = [
        datetime(2026, 11, 1, 3, 30, tzinfo=UTC),  # 31 October in New York: not in November
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 12, 4, 57, tzinfo=UTC),  # 11 November in New York
        datetime(2026, 11, 12, 5, 1, tzinfo=UTC),
        datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 4, 0, tzinfo=UTC),  # still 30 November in New York
        datetime(2026, 12, 1, 6, 0, tzinfo=UTC),  # December: not in November
    ]
    calls = [
        finished_call(rng.choice(campaigns), started_at=at + timedelta(minutes=minute), rng=rng)
        for at in instants
        for minute in range(3)
    ]
    calls.append(inbound_call(organization, started_at=datetime(2026, 11, 12, 15, tzinfo=UTC)))
    for call in calls:
        call_price(call_id=call.pk)
    call_price(call_id=calls[3].pk)  # a repeat adds nothing
    Call.objects.filter(pk=calls[4].pk).update(audio_output_tokens=20_000)
    call_price(call_id=calls[4].pk)  # re-priced: the roll-up moves by the difference
    # Someone else's calls on the same days never show.
    other = CampaignFactory(organization=OrganizationFactory())
    for at in instants:
        call_price(call_id=finished_call(other, started_at=at, rng=rng).pk)

    rows = campaign_daily_costs(organization_id=organization.pk, year=2026, month=11)

    reported = {(row.campaign_id, row.day): row.total for row in rows}
    assert reported == ledger_by_campaign_and_day(organization)
    days = {date(2026, 11, 1), date(2026, 11, 11), date(2026, 11, 12), date(2026, 11, 30)}
    assert {row.day for row in rows} == days
    assert (None, date(2026, 11, 12)) in reported  # the inbound call
    for row in rows:
        assert row.total == row.telephony + row.model + row.analysis
        assert row.total > 0
    assert sum(row.calls for row in rows) == 3 * 5 + 1
    named = {row.campaign for row in rows}
    assert named == {campaign.name for campaign in campaigns} | {"Inbound calls"}

    daily_costs_rebuild(organization_id=organization.pk)
    assert campaign_daily_costs(organization_id=organization.pk, year=2026, month=11) == rows


def test_one_campaign_can_be_asked_for():
    rng = random.Random(1)
    organization = OrganizationFactory()
    first, second = (CampaignFactory(organization=organization) for _ in range(2))
    for campaign in (first, second):
        call = finished_call(campaign, started_at=datetime(2026, 11, 3, 15, tzinfo=UTC), rng=rng)
        call_price(call_id=call.pk)

    rows = campaign_daily_costs(
        organization_id=organization.pk, year=2026, month=11, campaign_id=second.pk
    )

    assert [(row.campaign_id, row.day, row.calls) for row in rows] == [
        (second.pk, date(2026, 11, 3), 1)
    ]


def test_a_month_that_is_not_one_is_refused():
    with pytest.raises(BadPeriod, match="2026-13 is not a month"):
        campaign_daily_costs(organization_id=1, year=2026, month=13)
