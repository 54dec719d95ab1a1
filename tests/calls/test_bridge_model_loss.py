"""The model connection drops mid-call: the bridge restores it, or apologises and ends."""

import pytest
from asgiref.sync import sync_to_async

from calls.models import Call, CallEvent
from tests.calls.conftest import reminder_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def call_and_event_kinds(call_id):
    call = Call.objects.get(pk=call_id)
    return call, list(CallEvent.objects.filter(call_id=call_id).values_list("kind", flat=True))


async def test_it_restores_a_dropped_model_session_with_the_conversation_so_far(
    model_server, twilio
):
    reminder = await reminder_call()
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until_quiet()
    first = model_server.sessions[0]

    model_server.call(first.close(1011, "Internal server error."))
    await side.until(lambda: len(model_server.sessions) == 2)
    second = model_server.sessions[1]
    await side.until(lambda: second.events("received", "conversation.item.create"))

    update = second.events("received", "session.update")[0]["session"]
    assert update == first.events("received", "session.update")[0]["session"]
    restored = second.events("received", "conversation.item.create")[0]["item"]
    assert restored["role"] == "assistant"
    assert "automated AI assistant" in restored["content"][0]["text"]

    sent = await side.say("Yes, I will be there.")
    await side.until(
        lambda: len(second.events("received", "input_audio_buffer.append")) == len(sent)
    )
    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()
    call, kinds = await call_and_event_kinds(reminder.call.pk)
    assert "model_reconnect" in kinds
    assert call.hangup_reason == ""
    assert call.media_ended_at is not None


async def test_it_ends_the_call_when_the_model_cannot_be_restored(model_server, twilio):
    reminder = await reminder_call()
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))

    model_server.stop()

    assert await side.until_closed() == 1000
    call, kinds = await call_and_event_kinds(reminder.call.pk)
    assert call.hangup_reason == "model_unavailable"
    assert call.media_ended_at is not None
    assert "error" in kinds
