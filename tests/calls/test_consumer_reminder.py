"""A whole reminder call through the media consumer, against the sandbox model."""

import base64

import pytest
from asgiref.sync import sync_to_async

from calls.models import Call, CallEvent, Turn
from tests.calls.conftest import reminder_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def stored(call_id):
    call = Call.objects.get(pk=call_id)
    turns = list(Turn.objects.filter(call_id=call_id).order_by("started_ms", "id"))
    kinds = list(CallEvent.objects.filter(call_id=call_id).values_list("kind", flat=True))
    return call, turns, kinds


async def test_it_holds_a_reminder_conversation_and_hangs_up_after_the_goodbye(
    model_server, twilio
):
    reminder = await reminder_call()
    side = twilio(speed=4)
    await side.open(call_sid=reminder.sid, token=reminder.token())

    await side.until_quiet()
    opening = model_server.sessions[0]
    update = opening.events("received", "session.update")[0]["session"]
    assert update["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert update["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    assert "Tuesday at nine" in update["instructions"]
    # The agent spoke first, before the caller said anything.
    assert opening.events("received", "response.create")
    assert not opening.events("received", "input_audio_buffer.append")

    sent = await side.say("Yes, I will be there.")
    code = await side.until_closed()

    appended = [event["audio"] for event in opening.events("received", "input_audio_buffer.append")]
    assert appended == sent  # caller audio reached the model byte for byte
    assert code == 1000
    assert side.unplayed_bytes() == 0  # the goodbye had played when the socket closed
    deltas = [event["delta"] for event in opening.events("sent", "response.output_audio.delta")]
    assert [chunk.payload for chunk in side.audio] == deltas  # model audio reached the caller as is
    assert len(side.events("mark")) == len(deltas)

    call, turns, kinds = await stored(reminder.call.pk)
    assert call.outcome == "confirmed"
    assert call.media_ended_at is not None
    assert call.hangup_reason == "agent_ended"
    assert call.audio_output_tokens > 0
    assert call.text_input_tokens > 0
    transcribed = opening.events("sent", "conversation.item.input_audio_transcription.completed")
    assert call.transcription_audio_ms == sum(
        round(event["usage"]["seconds"] * 1000) for event in transcribed
    )
    assert call.transcription_audio_ms > 0
    assert call.realtime_model == "gpt-realtime"  # the model the session ran on
    assert [turn.speaker for turn in turns] == ["agent", "caller", "agent"]
    assert "automated AI assistant" in turns[0].text
    assert "yes" in turns[1].text.lower()
    assert "Goodbye" in turns[2].text
    assert not any(turn.interrupted for turn in turns)
    assert turns[1].started_ms >= 0
    assert turns[1].ended_ms > turns[1].started_ms
    assert kinds.count("tool") == 2
    assert kinds[0] == "media_start"
    assert kinds[-1] == "media_stop"
    assert base64.b64decode(sent[0])  # frames were real μ-law, not empty
