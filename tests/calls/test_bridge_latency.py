"""Latency per turn and first audio, measured by the bridge, and abandoned calls (no agent
audio within 2 s of the answer), against a sandbox model made slow on purpose."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from calls.models import Call, Turn
from campaigns.eligibility import target_decision
from tests.calls.conftest import reminder_call
from tests.factories import ConsentFactory, TargetFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def stored(call_id):
    call = Call.objects.get(pk=call_id)
    agent_turns = list(
        Turn.objects.filter(call_id=call_id, speaker="agent").order_by("started_ms", "id")
    )
    return call, agent_turns


async def test_it_records_the_first_audio_and_each_turns_latency_from_the_end_of_speech(
    model_server, twilio
):
    # Every response takes at least 0.6 s to its first audio: a floor the figures must show.
    model_server.first_audio_delay = 0.6
    reminder = await reminder_call()
    side = twilio(speed=1)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until_quiet()

    await side.say("Yes, I will be there.", realtime=True)
    await side.until_closed()

    call, (greeting, goodbye) = await stored(reminder.call.pk)
    assert call.first_audio_sent_ms >= 600
    assert call.first_audio_played_ms >= call.first_audio_sent_ms
    latency = call.turn_latency
    assert latency["turns"] == 1  # the goodbye answered the caller; the greeting did not
    assert greeting.response_sent_ms is None
    assert "Goodbye" in goodbye.text
    # The caller's half-second of silence before the model's VAD decided they had finished
    # (sent in real time), then the model's 0.6 s: the caller waited at least that long.
    assert goodbye.response_sent_ms >= 500 + 600
    assert goodbye.response_played_ms >= goodbye.response_sent_ms
    only = goodbye.response_sent_ms
    assert latency["sent"] == {"p50": only, "p90": only, "p99": only, "max": only}
    assert latency["played"]["max"] == goodbye.response_played_ms
    assert call.is_abandoned is (call.first_audio_sent_ms > 2000)


async def test_it_records_a_call_abandoned_when_the_model_is_slower_than_two_seconds(
    model_server, twilio
):
    model_server.first_audio_delay = 2.5
    reminder = await reminder_call()
    side = twilio(speed=4)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until_quiet()  # the greeting came, late, and played

    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()

    call, (greeting,) = await stored(reminder.call.pk)
    assert call.is_abandoned
    assert call.first_audio_sent_ms >= 2500
    assert "automated AI assistant" in greeting.text


async def test_it_records_a_call_abandoned_when_the_caller_hangs_up_before_any_audio(
    model_server, twilio
):
    model_server.first_audio_delay = 2.5
    reminder = await reminder_call()
    side = twilio(speed=4)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(
        lambda: (
            model_server.sessions and model_server.sessions[0].events("sent", "response.created")
        )
    )

    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()

    call, agent_turns = await stored(reminder.call.pk)
    assert call.is_abandoned
    assert call.first_audio_sent_ms is None
    assert call.first_audio_played_ms is None
    assert call.turn_latency == {
        "turns": 0,
        "sent": {"p50": None, "p90": None, "p99": None, "max": None},
        "played": {"p50": None, "p90": None, "p99": None, "max": None},
    }
    assert agent_turns == []
    assert not side.audio  # the caller heard nothing


@sync_to_async
def next_contacts_decision(call):
    """What the engine decides for another contact of the call's campaign next Tuesday
    afternoon (inside Florida's calling hours, within the 30 days)."""
    now = timezone.now()
    tuesday = now + timedelta(days=(1 - now.weekday()) % 7 or 7)
    at = tuesday.replace(hour=19, minute=0, second=0, microsecond=0)
    target = TargetFactory(campaign=call.target.campaign)
    ConsentFactory(contact=target.contact, purpose="informational")
    return target_decision(target, at=at)


async def test_a_call_the_slow_model_abandoned_stops_its_campaigns_dialing(model_server, twilio):
    model_server.first_audio_delay = 2.5
    reminder = await reminder_call()
    side = twilio(speed=4)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until_quiet()
    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()
    call, _ = await stored(reminder.call.pk)

    decision = await next_contacts_decision(call)

    assert call.is_abandoned
    assert decision.verdict == "defer"
    assert decision.reason == "abandon_rate"
    assert decision.next_allowed_at >= call.media_started_at + timedelta(days=30)
    assert "1 of the campaign's 1 calls answered by a person" in decision.detail
