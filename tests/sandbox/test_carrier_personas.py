"""Personas who hear what the app played and answer with real speech, with no model involved.

Each test's app plays synthesised agent speech and understands the person only by running
speech recognition on the inbound media frames, as the sandbox model does.
"""

import asyncio

import pytest

from sandbox import phrases, speech
from sandbox.carrier import Carrier, Manners, Timing
from sandbox.carrier.stream_app import StreamApp

OWNED = "+15005550006"
QUICK = Timing(dial=0.02, answer=0.05)
# Quicker than the default human pace, to keep the tests short; the logic is the same.
BRISK = Manners(end_of_utterance_gap=0.3, reply_pause=0.1)
SILENCE = speech.silence(1000)


@pytest.fixture
def carrier(tmp_path):
    with Carrier(
        numbers=[OWNED], calls_per_second=50, timing=QUICK, manners=BRISK, recording_dir=tmp_path
    ) as c:
        yield c


async def place(carrier, app, to):
    client = carrier.twilio_client()
    created = await asyncio.to_thread(client.calls.create, to=to, from_=OWNED, url=app.answer_url)
    return created.sid


async def say(stream, text, mark):
    await stream.send_audio(speech.synthesize(text))
    await stream.send_mark(mark)
    await stream.wait_for_mark(mark)


async def hear_intent(stream, since: int = 0) -> str:
    """The caller intent in the inbound audio after byte `since`, once the caller has spoken
    and fallen silent for half a second.
    """
    while True:
        await stream.wait_for(
            lambda s, since=since: has_spoken_and_paused(bytes(s.caller_audio[since:]))
        )
        audio = bytes(stream.caller_audio[since:])
        words = await asyncio.to_thread(speech.recognize, audio, phrases.CALLER_VOCABULARY)
        intent = phrases.caller_intent([word for word, _ in words])
        if intent is not None:
            return intent
        since += len(audio)


def has_spoken_and_paused(audio: bytes) -> bool:
    pause = 4000  # 500 ms of μ-law
    return (
        len(audio) > pause and audio[-pause:] == SILENCE[:pause] and audio.count(0xFF) < len(audio)
    )


@pytest.mark.parametrize(
    ("to", "intent"),
    [("+15551230000", "confirm"), ("+15551230001", "decline"), ("+15551230002", "reschedule")],
)
async def test_it_answers_the_question_it_heard_and_hangs_up_after_goodbye(carrier, to, intent):
    heard_intents = []

    async def script(stream):
        await say(stream, "Can you confirm?", "question")
        heard_intents.append(await hear_intent(stream))
        await say(stream, "Goodbye.", "goodbye")
        await stream.wait_until_closed()

    async with StreamApp(script) as app:
        sid = await place(carrier, app, to)
        call = await carrier.call_finished(sid)

    assert app.script_errors == []
    assert heard_intents == [intent]
    assert [u.text for u in call.said] == [phrases.CALLER_PHRASES[intent]]
    # The person waited for the question to finish playing before answering.
    assert call.said[0].at_ms >= call.played[0].end_ms
    assert [u.text for u in call.heard] == ["confirm", "goodbye"]
    assert app.streams[0].events("stop") != []
    assert call.hung_up_by == "callee"
    assert call.status == "completed"


async def test_it_asks_whether_the_agent_is_a_robot_before_answering(carrier):
    heard_intents = []

    async def script(stream):
        await say(stream, "I am an assistant.", "opening")
        heard_intents.append(await hear_intent(stream))
        since = len(stream.caller_audio)
        await say(stream, "Can you confirm?", "reply")
        heard_intents.append(await hear_intent(stream, since))
        await say(stream, "Goodbye.", "goodbye")
        await stream.wait_until_closed()

    async with StreamApp(script) as app:
        sid = await place(carrier, app, "+15551230013")
        call = await carrier.call_finished(sid)

    assert app.script_errors == []
    assert heard_intents == ["robot", "confirm"]
    assert call.hung_up_by == "callee"


async def test_it_says_stop_calling_me_after_the_opening(carrier):
    heard_intents = []

    async def script(stream):
        await say(stream, "This is an automated assistant.", "opening")
        heard_intents.append(await hear_intent(stream))
        await say(stream, "Goodbye.", "goodbye")
        await stream.wait_until_closed()

    async with StreamApp(script) as app:
        sid = await place(carrier, app, "+15551230003")
        call = await carrier.call_finished(sid)

    assert heard_intents == ["opt_out"]
    assert call.hung_up_by == "callee"


async def test_it_presses_the_configured_opt_out_key(tmp_path):
    async def script(stream):
        await say(stream, "Press seven to stop.", "opening")
        await stream.wait_for_event("dtmf")
        await say(stream, "Goodbye.", "goodbye")
        await stream.wait_until_closed()

    carrier = Carrier(
        numbers=[OWNED], timing=QUICK, manners=BRISK, opt_out_digit="7", recording_dir=tmp_path
    )
    with carrier:
        async with StreamApp(script) as app:
            sid = await place(carrier, app, "+15551230004")
            call = await carrier.call_finished(sid)

    [dtmf] = app.streams[0].events("dtmf")
    assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "7"}
    assert dtmf["streamSid"] == app.streams[0].stream_sid
    assert [digit for _, digit in call.dtmf_sent] == ["7"]
    assert call.said == []
    assert call.hung_up_by == "callee"


async def test_it_barges_in_while_the_opening_is_still_playing(carrier):
    opening = speech.synthesize(
        "This is an automated assistant calling about your appointment on Tuesday. "
        "This call may be recorded. Press nine to stop these calls."
    )
    heard_intents = []

    async def script(stream):
        await stream.send_audio(opening)
        await stream.send_mark("opening")
        # Barge-in detection as a bridge does it: the caller is audible on the inbound track.
        await stream.wait_for(lambda s: s.caller_audio.count(0xFF) < len(s.caller_audio))
        await stream.clear()
        heard_intents.append(await hear_intent(stream))
        await say(stream, "Goodbye.", "goodbye")
        await stream.wait_until_closed()

    async with StreamApp(script) as app:
        sid = await place(carrier, app, "+15551230005")
        call = await carrier.call_finished(sid)

    assert app.script_errors == []
    assert heard_intents == ["confirm"]
    opening_start = call.played[0].start_ms
    assert call.said[0].at_ms < opening_start + len(opening) // 8
    assert call.cleared_bytes > 0
    assert not call.played_audio.startswith(opening)
    assert call.hung_up_by == "callee"


async def test_it_hangs_up_while_the_agent_is_talking(carrier):
    opening = speech.synthesize(
        "This is an automated assistant calling about your appointment on Tuesday."
    )

    async def script(stream):
        await stream.send_audio(opening)
        await stream.wait_until_closed()

    async with StreamApp(script) as app:
        sid = await place(carrier, app, "+15551230006")
        call = await carrier.call_finished(sid)

    assert app.streams[0].events("stop") != []
    assert call.hung_up_by == "callee"
    assert call.said == []
    assert 0 < len(call.played_audio) < len(opening)


async def test_it_says_hello_into_silence_and_then_gives_up(tmp_path):
    async def script(stream):
        await stream.wait_until_closed()

    manners = Manners(end_of_utterance_gap=0.3, reply_pause=0.1, patience=1.0)
    carrier = Carrier(numbers=[OWNED], timing=QUICK, manners=manners, recording_dir=tmp_path)
    with carrier:
        async with StreamApp(script) as app:
            sid = await place(carrier, app, "+15551230000")
            call = await carrier.call_finished(sid)

    assert [u.text for u in call.said] == ["Hello?"]
    assert call.said[0].at_ms >= 1000
    words = speech.recognize(bytes(app.streams[0].caller_audio), phrases.CALLER_VOCABULARY)
    assert phrases.caller_intent([word for word, _ in words]) == "hello"
    assert call.hung_up_by == "callee"


async def test_it_answers_survey_questions(carrier):
    heard_intents = []

    async def script(stream):
        await say(stream, "Rate us on a scale.", "q1")
        heard_intents.append(await hear_intent(stream))
        since = len(stream.caller_audio)
        await say(stream, "Morning or evening?", "q2")
        heard_intents.append(await hear_intent(stream, since))
        await say(stream, "Goodbye.", "goodbye")
        await stream.wait_until_closed()

    async with StreamApp(script) as app:
        sid = await place(carrier, app, "+15551230009")
        call = await carrier.call_finished(sid)

    assert app.script_errors == []
    assert heard_intents == ["eight", "morning"]
    assert call.hung_up_by == "callee"
