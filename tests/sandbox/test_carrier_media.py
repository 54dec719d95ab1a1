"""Media Streams as the carrier speaks them: a full call from a minimal app's point of view."""

import asyncio
import base64
import json

import aiohttp
import numpy as np
import pytest
from twilio.request_validator import RequestValidator

from sandbox import speech
from sandbox.carrier import Carrier, Timing
from sandbox.carrier.recording import read_wav_pcm16
from sandbox.carrier.stream_app import StreamApp

OWNED = "+15005550006"
SILENT_PERSON = "+15551230007"
QUICK = Timing(dial=0.02, answer=0.05)


@pytest.fixture
def carrier(tmp_path):
    with Carrier(numbers=[OWNED], calls_per_second=50, timing=QUICK, recording_dir=tmp_path) as c:
        yield c


async def place(carrier, app, to=SILENT_PERSON):
    client = carrier.twilio_client()
    created = await asyncio.to_thread(client.calls.create, to=to, from_=OWNED, url=app.answer_url)
    return created.sid


def pcm(ulaw: bytes) -> np.ndarray:
    return speech.ulaw_to_pcm16(ulaw).astype(np.int16)


async def test_it_plays_app_audio_in_real_time_and_drops_what_was_cleared(carrier):
    first = speech.synthesize("This is an automated assistant.")
    second = speech.synthesize("Please confirm your appointment for next week on Tuesday.")
    frames_until_first_mark = []

    async def script(stream):
        await stream.send_audio(first)
        await stream.send_mark("first")
        frames_at_send = len(stream.events("media"))
        await stream.wait_for_mark("first")
        frames_until_first_mark.append(len(stream.events("media")) - frames_at_send)
        await stream.send_audio(second)
        await stream.send_mark("second")
        await stream.wait_for_frames(25)
        await stream.clear()
        await stream.wait_for_mark("second")

    async with StreamApp(script) as app:
        sid = await place(carrier, app)
        call = await carrier.call_finished(sid)

    assert app.script_errors == []
    [stream] = app.streams
    assert stream.connected == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    assert stream.start["event"] == "start"
    assert stream.start["sequenceNumber"] == "1"
    assert stream.start["streamSid"].startswith("MZ")
    assert stream.start["start"] == {
        "accountSid": carrier.account_sid,
        "callSid": sid,
        "streamSid": stream.stream_sid,
        "tracks": ["inbound"],
        "customParameters": {"token": "secret-token"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    }

    # Every message after `connected` is numbered; media frames are 20 ms of μ-law each.
    numbered = stream.messages[1:]
    assert [m["sequenceNumber"] for m in numbered] == [str(n) for n in range(1, len(numbered) + 1)]
    media = stream.events("media")
    assert [m["media"]["chunk"] for m in media] == [str(n) for n in range(1, len(media) + 1)]
    assert [m["media"]["timestamp"] for m in media] == [str(20 * n) for n in range(len(media))]
    assert {m["media"]["track"] for m in media} == {"inbound"}
    assert {len(base64.b64decode(m["media"]["payload"])) for m in media} == {160}
    assert bytes(stream.caller_audio) == bytes(call.caller_audio[: len(stream.caller_audio)])

    # The first mark came back only after its audio had played, one frame per 20 ms.
    assert frames_until_first_mark[0] >= len(first) // 160 - 1
    first_echo, second_echo = call.marks_echoed
    assert (first_echo.name, first_echo.was_cleared) == ("first", False)
    assert (second_echo.name, second_echo.was_cleared) == ("second", True)
    assert first_echo.at_ms >= call.played[0].start_ms + len(first) // 8 - 20

    # What was played is the first utterance and the start of the second; the rest was cleared.
    played_of_second = len(call.played_audio) - len(first)
    assert 0 < played_of_second < len(second)
    assert call.played_audio == first + second[:played_of_second]
    assert call.cleared_bytes == len(second) - played_of_second

    # The outbound recording holds exactly what was played, where it was played.
    outbound = read_wav_pcm16(call.recording_paths["outbound"])
    silent_between = np.ones(len(outbound), dtype=bool)
    for segment in call.played:
        start, end = segment.start_ms * 8, segment.start_ms * 8 + len(segment.audio)
        assert np.array_equal(outbound[start:end], pcm(bytes(segment.audio)))
        silent_between[start:end] = False
    assert np.all(outbound[silent_between] == 0)
    inbound = read_wav_pcm16(call.recording_paths["inbound"])
    assert np.all(inbound == 0)  # the silent persona said nothing

    # The app closed the socket, so the carrier ran the <Hangup/> after <Connect>.
    assert stream.events("stop") == []
    assert call.status == "completed"
    assert call.hung_up_by == "twiml-hangup"


async def test_it_signs_the_websocket_upgrade(carrier):
    async def script(stream):
        pass

    async with StreamApp(script) as app:
        sid = await place(carrier, app)
        await carrier.call_finished(sid)

    [headers] = app.upgrade_headers
    validator = RequestValidator(carrier.auth_token)
    assert validator.validate(app.stream_url, {}, headers["X-Twilio-Signature"])


async def test_it_logs_and_ignores_app_messages_that_break_the_protocol(carrier):
    async def script(stream):
        await stream.ws.send_bytes(b"\x00\x01")
        await stream.ws.send_str("not json")
        await stream.send({"event": "dance"})
        wrong_stream = {"event": "media", "streamSid": "MZnope", "media": {"payload": "AAAA"}}
        await stream.ws.send_str(json.dumps(wrong_stream))
        await stream.send({"event": "media", "media": {"payload": "***"}})
        await stream.send({"event": "mark", "mark": {}})
        await stream.send_mark("still-served")
        await stream.wait_for_mark("still-served")

    async with StreamApp(script) as app:
        sid = await place(carrier, app)
        call = await carrier.call_finished(sid)

    assert app.script_errors == []
    assert [error.split(":")[0] for error in call.protocol_errors] == ["31950"] + ["31951"] * 5
    assert call.played_audio == b""
    assert call.status == "completed"


async def test_it_sends_stop_when_the_call_is_hung_up_through_the_api(carrier):
    speech_audio = speech.synthesize("Please confirm your appointment for next week on Tuesday.")

    async def script(stream):
        await stream.send_audio(speech_audio)
        await stream.wait_until_closed()

    async with StreamApp(script) as app:
        sid = await place(carrier, app)
        await asyncio.to_thread(carrier.wait_for_status, sid, "in-progress")
        await (await app.first_stream()).wait_for_frames(10)
        client = carrier.twilio_client()
        await asyncio.to_thread(client.calls(sid).update, status="completed")
        call = await carrier.call_finished(sid)

    [stream] = app.streams
    await stream.wait_until_closed()
    stop = stream.messages[-1]
    assert stop["event"] == "stop"
    assert stop["streamSid"] == stream.stream_sid
    assert stop["stop"] == {"accountSid": carrier.account_sid, "callSid": sid}
    assert call.status == "completed"
    assert call.hung_up_by == "api"
    assert 0 < len(call.played_audio) < len(speech_audio)


async def test_it_runs_new_twiml_given_during_a_stream(carrier):
    async def script(stream):
        await stream.wait_until_closed()

    transfer = "<Response><Say>Transferring you now.</Say><Dial>+15557654321</Dial></Response>"
    async with StreamApp(script) as app:
        sid = await place(carrier, app)
        await app.first_stream()
        client = carrier.twilio_client()
        await asyncio.to_thread(client.calls(sid).update, twiml=transfer)
        call = await carrier.call_finished(sid)

    assert app.streams[0].events("stop") != []
    assert call.played_audio == speech.synthesize("Transferring you now.")
    assert call.transfer_target == "+15557654321"
    assert call.hung_up_by == "dial"
    assert call.status == "completed"


async def test_it_exposes_the_call_over_http_for_inspection(carrier):
    async def script(stream):
        await stream.send_mark("nothing-queued")
        await stream.wait_for_mark("nothing-queued")

    async with StreamApp(script) as app:
        sid = await place(carrier, app)
        await carrier.call_finished(sid)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{carrier.base_url}/sandbox/calls/{sid}.json") as response,
        ):
            inspection = await response.json()

    assert inspection["sid"] == sid
    assert inspection["status"] == "completed"
    assert inspection["persona"] == "silent"
    assert inspection["custom_parameters"] == {"token": "secret-token"}
    assert inspection["marks_echoed"][0]["name"] == "nothing-queued"
    assert set(inspection["recording_paths"]) == {"inbound", "outbound"}
    assert any(entry["what"] == "mark" for entry in inspection["log"])
