"""Barge-in: the caller talks over the agent; the agent stops, and the model learns how
much of its audio the caller really heard."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from calls.models import CallEvent, Turn
from calls.playback import BYTES_PER_MS
from tests.calls.conftest import reminder_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def played_ms_of_item(side, session, item_id):
    """What the test, as the carrier, really played of one model item."""
    payloads = {
        event["delta"]
        for event in session.events("sent", "response.output_audio.delta")
        if event["item_id"] == item_id
    }
    return sum(chunk.played for chunk in side.audio if chunk.payload in payloads) / BYTES_PER_MS


@sync_to_async
def barge_in_record(call_id):
    turn = Turn.objects.filter(call_id=call_id, speaker="agent").order_by("started_ms").first()
    return turn, list(CallEvent.objects.filter(call_id=call_id, kind="barge_in"))


async def test_it_truncates_the_agent_at_what_the_caller_heard(model_server, twilio):
    reminder = await reminder_call()
    side = twilio(speed=1)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: sum(chunk.played for chunk in side.audio) >= 1500 * BYTES_PER_MS)

    await side.say("Are you a robot?")
    await side.until(lambda: side.events("clear"))
    session = model_server.sessions[0]
    await side.until(lambda: session.events("received", "conversation.item.truncate"))

    truncate = session.events("received", "conversation.item.truncate")[0]
    heard = played_ms_of_item(side, session, truncate["item_id"])
    assert abs(truncate["audio_end_ms"] - heard) <= 100
    assert truncate["content_index"] == 0
    # The opening had been generated in full before the caller spoke: nothing to cancel.
    assert not session.events("received", "response.cancel")
    await side.until(lambda: session.events("sent", "conversation.item.truncated"))

    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()
    turn, barge_ins = await barge_in_record(reminder.call.pk)
    assert turn.interrupted
    assert turn.text.startswith("Hello")
    assert "press" not in turn.text  # the unheard end of the opening is not in the transcript
    assert len(barge_ins) == 1
    assert barge_ins[0].data["audio_end_ms"] == truncate["audio_end_ms"]


async def test_it_cancels_the_response_only_while_one_is_running(make_model_server, twilio):
    server = make_model_server(audio_pace=1.0)  # the model is still talking when interrupted
    reminder = await reminder_call()
    side = twilio(speed=1)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: sum(chunk.played for chunk in side.audio) >= 1000 * BYTES_PER_MS)

    await side.say("Are you a robot?")
    session = server.sessions[0]
    await side.until(lambda: session.events("received", "response.cancel"))
    await side.until(lambda: session.events("sent", "conversation.item.truncated"))

    def cancelled():
        return [
            event
            for event in session.events("sent", "response.done")
            if event["response"]["status"] == "cancelled"
        ]

    # The response ends (response.done) when its audio task stops, which may come after the
    # truncate is confirmed: the two are not ordered.
    await side.until(cancelled)
    assert len(cancelled()) == 1
    errors = [event["error"]["code"] for event in session.events("sent", "error")]
    assert "response_cancel_not_active" not in errors
    assert len(session.events("received", "response.cancel")) == 1
    assert side.events("clear")


@sync_to_async
def call_record(call_id):
    turns = list(Turn.objects.filter(call_id=call_id).order_by("started_ms"))
    events = list(CallEvent.objects.filter(call_id=call_id, kind__in=["barge_in", "backchannel"]))
    return turns, events


def turn_detection_sent(session):
    update = session.events("received", "session.update")[0]
    return update["session"]["audio"]["input"]["turn_detection"]


async def test_the_agent_talks_on_through_an_acknowledgement(model_server, twilio):
    reminder = await reminder_call()  # barge-in ignores acknowledgements by default
    side = twilio(speed=1)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: sum(chunk.played for chunk in side.audio) >= 1000 * BYTES_PER_MS)
    session = model_server.sessions[0]

    await side.say("Okay.", realtime=True)
    transcribed = "conversation.item.input_audio_transcription.completed"
    await side.until(lambda: session.events("sent", transcribed))
    await side.until_quiet()

    assert session.events("sent", transcribed)[0]["transcript"] == "okay"
    assert not side.events("clear")
    assert not session.events("received", "conversation.item.truncate")
    assert not session.events("received", "response.cancel")
    # Nothing answers the "okay": the opening was the only response.
    assert len(session.events("sent", "response.created")) == 1
    opening = {event["delta"] for event in session.events("sent", "response.output_audio.delta")}
    assert all(chunk.played == chunk.size for chunk in side.audio if chunk.payload in opening)
    assert turn_detection_sent(session)["create_response"] is False
    assert turn_detection_sent(session)["interrupt_response"] is False

    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()
    turns, events = await call_record(reminder.call.pk)
    agent_turn = next(turn for turn in turns if turn.speaker == "agent")
    assert not agent_turn.interrupted
    assert "press" in agent_turn.text  # the whole opening, to its opt-out line
    assert [turn.text for turn in turns if turn.speaker == "caller"] == ["okay"]
    assert [(event.kind, event.data["text"]) for event in events] == [("backchannel", "okay")]


async def test_long_speech_stops_the_agent_before_the_caller_finishes(model_server, twilio):
    reminder = await reminder_call()
    side = twilio(speed=1)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: sum(chunk.played for chunk in side.audio) >= 1000 * BYTES_PER_MS)
    session = model_server.sessions[0]

    speaking = asyncio.create_task(side.say("Can we reschedule to next week?", realtime=True))
    await side.until(lambda: side.events("clear"))
    # Proven by its length alone, while the model still hears the caller talking.
    assert not session.events("sent", "input_audio_buffer.speech_stopped")
    await speaking
    await side.until(lambda: session.events("sent", "conversation.item.truncated"))
    truncate = session.events("received", "conversation.item.truncate")[0]
    heard = played_ms_of_item(side, session, truncate["item_id"])
    assert abs(truncate["audio_end_ms"] - heard) <= 100
    # The bridge, not the server, asks for the answer once the caller has finished.
    await side.until(lambda: len(session.events("received", "response.create")) >= 2)

    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()
    # Every response was one the bridge asked for, none the server's own.
    responses = session.events("sent", "response.created")
    assert len(responses) == len(session.events("received", "response.create"))
    turns, events = await call_record(reminder.call.pk)
    assert next(turn for turn in turns if turn.speaker == "agent").interrupted
    assert [(event.kind, event.data["proof"]) for event in events] == [("barge_in", "duration")]


async def test_a_short_word_that_is_not_an_acknowledgement_stops_the_agent(model_server, twilio):
    reminder = await reminder_call()
    side = twilio(speed=1)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: sum(chunk.played for chunk in side.audio) >= 1000 * BYTES_PER_MS)
    session = model_server.sessions[0]

    await side.say("No.", realtime=True)
    await side.until(lambda: side.events("clear"))
    await side.until(lambda: session.events("sent", "conversation.item.truncated"))

    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()
    _, events = await call_record(reminder.call.pk)
    assert [(event.kind, event.data["proof"]) for event in events] == [("barge_in", "words")]


async def test_immediate_barge_in_stops_the_agent_even_for_an_acknowledgement(model_server, twilio):
    reminder = await reminder_call(barge_in="immediate")
    side = twilio(speed=1)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: sum(chunk.played for chunk in side.audio) >= 1000 * BYTES_PER_MS)
    session = model_server.sessions[0]

    await side.say("Okay.", realtime=True)
    await side.until(lambda: side.events("clear"))
    await side.until(lambda: session.events("sent", "conversation.item.truncated"))

    truncate = session.events("received", "conversation.item.truncate")[0]
    heard = played_ms_of_item(side, session, truncate["item_id"])
    assert abs(truncate["audio_end_ms"] - heard) <= 100
    assert turn_detection_sent(session)["create_response"] is True
