"""A campaign whose calls answered by a person were abandoned too often stops dialing: its
due targets are deferred with the reason `abandon_rate`, in words, until the oldest
abandoned call leaves the 30-day window; at or below the threshold it dials."""

from datetime import timedelta

import pytest

from calls.models import Call
from campaigns.eligibility import target_explanation
from campaigns.lifecycle import campaign_launch
from campaigns.models import Target
from campaigns.scheduling import campaign_tick
from tests.factories import (
    TUESDAY_AFTERNOON,
    CallFactory,
    CampaignFactory,
    TargetFactory,
    reminder_campaign,
)

pytestmark = pytest.mark.django_db


def launched_campaign():
    campaign = reminder_campaign(["confirm"])
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=TUESDAY_AFTERNOON)
    return campaign, Target.objects.get(campaign=campaign, status="pending")


def answered_calls(campaign, *, count, abandoned=0, days_ago=1, answered_by="human"):
    """`count` finished calls of `campaign` answered `days_ago` days before the tick, the
    first `abandoned` of them abandoned."""
    for index in range(count):
        CallFactory(
            target=TargetFactory(campaign=campaign, status="done"),
            status="completed",
            answered_by=answered_by,
            media_started_at=TUESDAY_AFTERNOON - timedelta(days=days_ago),
            is_abandoned=index < abandoned,
        )


def tick(campaign) -> list[Call]:
    """The calls the campaign's tick booked."""
    # Dialing is not under test: the tick books the call row, which is what counts here.
    report = campaign_tick(
        campaign_id=campaign.pk, at=TUESDAY_AFTERNOON, enqueue_dial=lambda call_id: None
    )
    return list(Call.objects.filter(pk__in=report.calls))


def test_a_campaign_above_the_threshold_defers_its_targets_and_places_no_call():
    campaign, target = launched_campaign()
    answered_calls(campaign, count=39)
    answered_calls(campaign, count=1, abandoned=1, days_ago=7)  # 1 of 40: 2.5 %
    # A machine's pick-up is no answer by a person, abandoned or not.
    answered_calls(campaign, count=5, abandoned=5, answered_by="machine_end_beep")
    calls_before = Call.objects.count()

    booked = tick(campaign)

    target.refresh_from_db()
    assert booked == []
    assert Call.objects.count() == calls_before
    assert target.status == "pending"
    assert target.last_reason == "abandon_rate"
    # The abandoned call leaves the window 30 days after it was answered (a Thursday
    # afternoon, inside the calling hours).
    assert target.next_attempt_at == TUESDAY_AFTERNOON - timedelta(days=7) + timedelta(days=30)
    _, results = target_explanation(target, at=TUESDAY_AFTERNOON)
    health = next(result for result in results if result.name == "campaign_health")
    assert health.detail.startswith(
        "1 of the campaign's 40 calls answered by a person in the last 30 days were abandoned "
        "(no agent audio within 2 s): 2.5 %, above the 2 % at which dialing stops"
    )


def test_a_campaign_at_the_threshold_dials():
    campaign, target = launched_campaign()
    answered_calls(campaign, count=49)
    answered_calls(campaign, count=1, abandoned=1)  # 1 of 50: 2 %, not above
    answered_calls(campaign, count=3, abandoned=3, days_ago=31)  # out of the window

    booked = tick(campaign)

    assert [call.target for call in booked] == [target]


def test_the_threshold_is_a_setting(settings):
    settings.ABANDON_RATE_PAUSE_PERCENT = 3
    campaign, target = launched_campaign()
    answered_calls(campaign, count=39)
    answered_calls(campaign, count=1, abandoned=1)  # 2.5 %, within 3 %

    booked = tick(campaign)

    assert [call.target for call in booked] == [target]


def test_another_campaigns_abandoned_calls_do_not_stop_this_one():
    campaign, target = launched_campaign()
    answered_calls(CampaignFactory(), count=2, abandoned=2)
    answered_calls(campaign, count=2)

    booked = tick(campaign)

    assert [call.target for call in booked] == [target]
