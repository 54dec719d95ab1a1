"""Latency and abandonment as people read them: a call's detail in the API, a campaign's
percentiles over all its calls' turns (computed by PostgreSQL), and its progress."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.latency import campaign_abandonment, campaign_latency
from calls.models import Turn
from tests.api_world import world
from tests.factories import CallFactory, CampaignFactory, TargetFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours():
    return world("Bayview Dental", phone_prefix="+1305555")


def measured_call(campaign, *, first_audio_ms, turns_ms, abandoned=False, answered_by="human"):
    """A finished call of `campaign` whose agent answered the caller after each of
    `turns_ms` (played 40 ms later); returns the call."""
    call = CallFactory(
        target=TargetFactory(campaign=campaign, status="done"),
        status="completed",
        answered_by=answered_by,
        media_started_at=timezone.now() - timedelta(hours=1),
        first_audio_sent_ms=first_audio_ms,
        first_audio_played_ms=None if first_audio_ms is None else first_audio_ms + 60,
        is_abandoned=abandoned,
    )
    for index, latency in enumerate(turns_ms):
        Turn.objects.create(
            call=call,
            speaker="agent",
            text=f"Answer {index}",
            started_ms=1000 * (index + 1),
            response_sent_ms=latency,
            response_played_ms=latency + 40,
        )
    Turn.objects.create(call=call, speaker="caller", text="Yes.", started_ms=500)
    return call


def test_a_campaigns_percentiles_are_over_every_turn_of_its_calls(ours):
    campaign = ours.campaign
    # 100 turns from 10 ms to 1000 ms over four calls; another campaign's slow turn does
    # not count.
    latencies = [10 * value for value in range(1, 101)]
    for part, first_audio in zip(range(4), (300, 500, 700, 2600), strict=True):
        measured_call(campaign, first_audio_ms=first_audio, turns_ms=latencies[part::4])
    measured_call(CampaignFactory(), first_audio_ms=9000, turns_ms=[9000])

    latency = campaign_latency(campaign_id=campaign.pk)

    assert latency["turns"] == 100
    assert latency["turn_sent_ms"] == {"p50": 500, "p90": 900, "p99": 990, "max": 1000}
    assert latency["turn_played_ms"] == {"p50": 540, "p90": 940, "p99": 1030, "max": 1040}
    assert latency["calls"] == 4
    assert latency["first_audio_sent_ms"] == {"p50": 500, "p90": 2600, "p99": 2600, "max": 2600}


def test_the_abandonment_rate_counts_a_campaigns_calls_answered_by_a_person_in_30_days(ours):
    campaign = ours.campaign
    now = timezone.now()
    late = measured_call(campaign, first_audio_ms=2600, turns_ms=[], abandoned=True)
    hung_up = measured_call(campaign, first_audio_ms=None, turns_ms=[], abandoned=True)
    for _ in range(3):
        measured_call(campaign, first_audio_ms=400, turns_ms=[])
    # Not counted: a machine, a call from 31 days ago, another campaign's abandoned call.
    measured_call(
        campaign, first_audio_ms=None, turns_ms=[], abandoned=True, answered_by="machine_start"
    )
    old = measured_call(campaign, first_audio_ms=None, turns_ms=[], abandoned=True)
    old.media_started_at = now - timedelta(days=31)
    old.save()
    measured_call(CampaignFactory(), first_audio_ms=None, turns_ms=[], abandoned=True)

    abandonment = campaign_abandonment(campaign_id=campaign.pk, at=now)

    assert (abandonment["answered"], abandonment["abandoned"]) == (5, 2)
    assert abandonment["rate_percent"] == 40
    oldest = min(late.media_started_at, hung_up.media_started_at)
    assert abandonment["recovers_at"] == oldest + timedelta(days=30)


def test_the_call_detail_shows_first_audio_turn_percentiles_and_abandonment(ours):
    call = ours.call
    call.first_audio_sent_ms, call.first_audio_played_ms = 640, 700
    call.turn_latency = {
        "turns": 2,
        "sent": {"p50": 800, "p90": 1200, "p99": 1200, "max": 1200},
        "played": {"p50": 850, "p90": 1260, "p99": 1260, "max": 1260},
    }
    call.save()
    Turn.objects.filter(call=call).update(response_sent_ms=800, response_played_ms=850)

    detail = ours.api("operator").get(f"/api/calls/{call.pk}/").json()
    listed = ours.api("operator").get("/api/calls/").json()["results"][0]

    assert detail["latency"] == {
        "first_audio_sent_ms": 640,
        "first_audio_played_ms": 700,
        "turns": 2,
        "turn_sent_ms": {"p50": 800, "p90": 1200, "p99": 1200, "max": 1200},
        "turn_played_ms": {"p50": 850, "p90": 1260, "p99": 1260, "max": 1260},
        "is_abandoned": False,
    }
    assert detail["turns"][0]["response_sent_ms"] == 800
    assert detail["turns"][0]["response_played_ms"] == 850
    assert (listed["first_audio_sent_ms"], listed["is_abandoned"]) == (640, False)


def test_campaign_progress_shows_latency_and_the_abandonment_that_stops_dialing(ours):
    campaign = ours.campaign
    measured_call(campaign, first_audio_ms=2600, turns_ms=[], abandoned=True)
    measured_call(campaign, first_audio_ms=450, turns_ms=[700, 900])

    progress = ours.api("operator").get(f"/api/campaigns/{campaign.pk}/progress/").json()

    assert progress["latency"]["turns"] == 2
    assert progress["latency"]["turn_sent_ms"] == {"p50": 700, "p90": 900, "p99": 900, "max": 900}
    assert progress["abandonment"]["answered"] == 2
    assert progress["abandonment"]["abandoned"] == 1
    assert progress["abandonment"]["rate_percent"] == 50.0
    assert progress["abandonment"]["pause_percent"] == 2.0
    assert progress["abandonment"]["is_dialing_stopped"] is True
    assert progress["abandonment"]["recovers_at"] is not None


def test_the_call_page_in_the_admin_shows_the_latency_in_words(client, ours):
    call = ours.call
    call.first_audio_sent_ms, call.is_abandoned = 2300, True
    call.turn_latency = {
        "turns": 2,
        "sent": {"p50": 800, "p90": 1200, "p99": 1200, "max": 1200},
        "played": {"p50": None, "p90": None, "p99": None, "max": None},
    }
    call.save()
    client.force_login(member_of("operator", "olivia", organization=ours.organization))

    response = client.get(reverse("admin:calls_call_change", args=[call.pk]))

    page = text_of(response)
    assert "p50 800 ms · p90 1200 ms · p99 1200 ms · worst 1200 ms over 2 turns" in page
    assert "First audio 2300 ms sent, abandoned (no agent audio within 2 s of the answer)" in page
    assert "Turn latency, played —" in page


def test_the_campaign_page_shows_latency_percentiles_and_the_abandonment_rate(client, ours):
    campaign = ours.campaign
    measured_call(campaign, first_audio_ms=400, turns_ms=[600, 800])
    measured_call(campaign, first_audio_ms=2600, turns_ms=[1000], abandoned=True)
    client.force_login(member_of("operator", "olivia", organization=ours.organization))

    page = text_of(client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])))

    assert "First audio after the answer (sent) p50 400 ms · p99 2600 ms over 2 calls" in page
    assert "end of speech to agent audio (sent) p50 800 ms · p99 1000 ms over 3 turns" in page
    assert "1 of 2 calls answered by a person (50 %) in 30 days; dialing stopped above 2 %" in page
