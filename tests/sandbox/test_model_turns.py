"""Turn-taking over real audio: server VAD, transcription, interruption, idle timeout, usage."""

import base64
import math

import numpy as np
import pytest
import soxr

from sandbox import phrases, speech
from sandbox.model import ModelServer
from sandbox.model.audio_formats import alaw_to_pcm16
from tests.sandbox.conftest import (
    API_KEY,
    FRAME_BYTES,
    append_event,
    audio_of,
    caller_frames,
    open_reminder_call,
    pcmu_session,
    transcript_of,
)


async def test_it_detects_speech_on_the_received_audio_and_transcribes_it(connect):
    client = await connect()
    await open_reminder_call(client)

    await client.send_frames(caller_frames("Yes, I will be there.", lead_ms=1000))
    events = await client.until("conversation.item.input_audio_transcription.completed")

    started, stopped, committed = (
        next(event for event in events if event["type"] == kind)
        for kind in (
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
        )
    )
    spoken_ms = speech.duration_ms(speech.synthesize("Yes, I will be there."))
    assert started["audio_start_ms"] == 1000 - 300  # prefix padding included
    # The last quiet milliseconds of the final word fall under the speech level.
    assert 1000 + spoken_ms + 500 - 30 <= stopped["audio_end_ms"] <= 1000 + spoken_ms + 520
    assert started["item_id"] == stopped["item_id"] == committed["item_id"]
    assert events[-1]["transcript"] == "yes i will be there"
    assert events[-1]["item_id"] == committed["item_id"]


async def test_it_hears_audio_sent_in_chunks_of_any_size(connect, model_server):
    client = await connect()
    await open_reminder_call(client)
    audio = b"".join(caller_frames("Can we reschedule to next week?", lead_ms=330))

    for start in range(0, len(audio), 1234):
        await client.send(append_event(audio[start : start + 1234]))
    events = await client.until("conversation.item.input_audio_transcription.completed")

    assert events[-1]["transcript"] == "can we reschedule to next week"
    assert model_server.sessions[0].heard == [["can", "we", "reschedule", "to", "next", "week"]]


async def test_it_answers_a_turn_with_a_function_call_and_reports_it_everywhere(connect):
    client = await connect()
    await open_reminder_call(client)

    await client.send_frames(caller_frames("No, I cannot make it."))
    events = await client.until("response.done")

    arguments_done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    added = next(e for e in events if e["type"] == "response.output_item.added")
    done = next(e for e in events if e["type"] == "response.output_item.done")
    response = events[-1]["response"]
    assert arguments_done["name"] == "record_outcome"
    assert arguments_done["arguments"] == '{"outcome": "declined"}'
    assert added["item"]["type"] == "function_call"
    assert added["item"]["status"] == "in_progress"
    assert done["item"]["status"] == "completed"
    assert done["item"]["call_id"] == arguments_done["call_id"]
    assert response["status"] == "completed"
    assert response["output"] == [done["item"]]


async def test_it_continues_the_script_after_a_function_call_output(connect):
    client = await connect()
    await open_reminder_call(client)
    await client.send_frames(caller_frames("No, I cannot make it."))
    call = next(
        e for e in await client.until("response.done") if e["type"] == "response.output_item.done"
    )

    await client.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "function_call_output",
                "call_id": call["item"]["call_id"],
                "output": "{}",
            },
        }
    )
    item_events = [await client.next_event(), await client.next_event()]
    await client.send({"type": "response.create"})
    closing = await client.until("response.done")

    assert [event["type"] for event in item_events] == [
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert item_events[0]["previous_item_id"] == call["item"]["id"]
    assert transcript_of(closing) == "Thank you. Goodbye."
    assert closing[-1]["response"]["output"][1]["name"] == "end_call"


async def test_it_rates_usage_per_second_of_audio_with_cached_tokens(connect):
    client = await connect()
    opening = await open_reminder_call(client)
    caller = caller_frames("Yes, I will be there.")
    await client.send_frames(caller)
    turn = await client.until("response.done")

    opening_usage = opening[-1]["response"]["usage"]
    opening_ms = speech.duration_ms(audio_of(opening))
    assert opening_usage["output_token_details"]["audio_tokens"] == math.ceil(opening_ms / 50)
    assert opening_usage["input_token_details"]["audio_tokens"] == 0
    assert opening_usage["input_token_details"]["cached_tokens"] == 0
    usage = turn[-1]["response"]["usage"]
    committed = next(e for e in turn if e["type"] == "input_audio_buffer.speech_stopped")
    started = next(e for e in turn if e["type"] == "input_audio_buffer.speech_started")
    caller_ms = committed["audio_end_ms"] - started["audio_start_ms"]
    details = usage["input_token_details"]
    assert details["audio_tokens"] == math.ceil(opening_ms / 50) + math.ceil(caller_ms / 100)
    assert details["cached_tokens_details"]["audio_tokens"] == math.ceil(opening_ms / 50)
    assert details["cached_tokens_details"]["text_tokens"] == details["text_tokens"]
    assert details["cached_tokens"] == sum(details["cached_tokens_details"].values())
    assert usage["input_tokens"] == details["text_tokens"] + details["audio_tokens"]
    assert usage["output_token_details"] == {"text_tokens": 6, "audio_tokens": 0}
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_it_sends_rate_limits_at_the_start_of_each_response(connect):
    client = await connect()

    opening = await open_reminder_call(client)

    types = [event["type"] for event in opening]
    assert types.index("rate_limits.updated") == types.index("response.created") + 1
    limits = next(e for e in opening if e["type"] == "rate_limits.updated")["rate_limits"]
    assert {limit["name"] for limit in limits} == {"requests", "tokens"}


async def test_its_transcript_deltas_carry_the_text_of_the_audio(connect):
    client = await connect()

    opening = await open_reminder_call(client)

    done = next(e for e in opening if e["type"] == "response.output_audio_transcript.done")
    assert transcript_of(opening) == done["transcript"]
    assert done["transcript"].startswith("Hello, this is an automated assistant")
    assert done["transcript"].endswith("Can you confirm your appointment on Tuesday at nine?")
    assert audio_of(opening) == speech.synthesize(done["transcript"])


async def test_it_says_exactly_what_a_response_instruction_asks(connect):
    client = await connect()
    await open_reminder_call(client)

    await client.send(
        {
            "type": "response.create",
            "response": {"instructions": 'Wrap up now. Say: "We are out of time. Goodbye."'},
        }
    )
    events = await client.until("response.done")

    assert transcript_of(events) == "We are out of time. Goodbye."
    heard = speech.recognize(audio_of(events), phrases.AGENT_VOCABULARY)
    assert [word for word, _ in heard] == ["goodbye"]


async def test_it_answers_in_text_when_the_session_asks_for_text(connect):
    client = await connect()
    await client.until("session.created")
    await client.send(
        {"type": "session.update", "session": {**pcmu_session(), "output_modalities": ["text"]}}
    )
    await client.until("session.updated")

    await client.send({"type": "response.create"})
    events = await client.until("response.done")

    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text.startswith("Hello, this is an automated assistant")
    assert not [e for e in events if e["type"] == "response.output_audio.delta"]
    assert events[-1]["response"]["output"][0]["content"] == [{"type": "output_text", "text": text}]


@pytest.mark.parametrize(
    "output_format", [{"type": "audio/pcma"}, {"type": "audio/pcm", "rate": 24000}]
)
async def test_it_speaks_in_the_sessions_output_format(connect, output_format):
    client = await connect()
    session = pcmu_session()
    session["audio"]["output"]["format"] = output_format

    opening = await open_reminder_call(client, audio=session["audio"])

    audio = audio_of(opening)
    if output_format["type"] == "audio/pcma":
        samples = alaw_to_pcm16(audio)
    else:
        wideband = np.frombuffer(audio, dtype="<i2").astype(np.float64)
        samples = soxr.resample(wideband, 24000, 8000)
    heard = speech.recognize(speech.pcm16_to_ulaw(np.round(samples)), phrases.AGENT_VOCABULARY)
    assert phrases.agent_cues([word for word, _ in heard]) >= {"disclosure", "question"}


async def test_it_listens_to_24khz_pcm_input(connect):
    client = await connect()
    session = pcmu_session()
    session["audio"]["input"]["format"] = {"type": "audio/pcm", "rate": 24000}
    await open_reminder_call(client, audio=session["audio"])
    narrowband = speech.ulaw_to_pcm16(b"".join(caller_frames("Stop calling me.")))
    wideband = soxr.resample(narrowband.astype(np.float64), 8000, 24000)
    pcm = np.round(wideband).astype("<i2").tobytes()

    for start in range(0, len(pcm), 960):
        await client.send(append_event(pcm[start : start + 960]))
    events = await client.until("conversation.item.input_audio_transcription.completed")

    assert events[-1]["transcript"] == "stop calling me"


async def test_it_prompts_a_silent_caller_after_the_idle_timeout(connect):
    client = await connect()
    opening = await open_reminder_call(client, audio=pcmu_session(idle_timeout_ms=5000)["audio"])
    playback_ms = speech.duration_ms(audio_of(opening))
    silence_frames = (playback_ms + 5000) // 20 + 5

    await client.send_frames([speech.silence(20)] * silence_frames)
    events = await client.until("response.done")

    timeout = next(e for e in events if e["type"] == "input_audio_buffer.timeout_triggered")
    assert timeout["audio_end_ms"] - timeout["audio_start_ms"] >= 5000
    assert transcript_of(events).startswith("Are you still there?")
    assert not [e for e in events if e["type"] == "input_audio_buffer.speech_started"]


async def test_it_does_not_prompt_before_the_idle_timeout(connect, model_server):
    client = await connect()
    opening = await open_reminder_call(client, audio=pcmu_session(idle_timeout_ms=5000)["audio"])
    playback_ms = speech.duration_ms(audio_of(opening))

    await client.send_frames([speech.silence(20)] * ((playback_ms + 4800) // 20))
    await client.send({"type": "response.cancel", "event_id": "probe"})
    probe = await client.next_event()

    assert probe["error"]["event_id"] == "probe"
    assert "input_audio_buffer.timeout_triggered" not in model_server.sessions[0].sent_types()


@pytest.fixture
def real_time_server():
    server = ModelServer(api_key=API_KEY, audio_pace=1.0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def real_time_client(real_time_server):
    import aiohttp

    from tests.sandbox.conftest import RawRealtimeClient

    http = aiohttp.ClientSession()
    url = real_time_server.base_url.replace("http", "ws") + "/v1/realtime?model=gpt-realtime"
    websocket = await http.ws_connect(url, headers={"Authorization": f"Bearer {API_KEY}"})
    client = RawRealtimeClient(websocket, http)
    yield client
    await client.close()


async def test_it_cancels_a_response_when_the_caller_barges_in(real_time_client):
    client = real_time_client
    await client.until("session.created")
    await client.send({"type": "session.update", "session": pcmu_session()})
    await client.until("session.updated")
    await client.send({"type": "response.create"})
    await client.until("response.output_audio.delta")

    await client.send_frames(caller_frames("Stop calling me.", lead_ms=0))
    events = await client.until("response.done")
    reaction = await client.until("response.done")

    types = [event["type"] for event in events]
    assert types.index("input_audio_buffer.speech_started") < types.index("response.done")
    cancelled = events[-1]["response"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert cancelled["output"][0]["status"] == "incomplete"
    assert reaction[-1]["response"]["output"][0]["name"] == "opt_out"


async def test_it_cancels_a_response_on_request(real_time_client):
    client = real_time_client
    await client.until("session.created")
    await client.send({"type": "session.update", "session": pcmu_session()})
    await client.until("session.updated")
    await client.send({"type": "response.create"})
    await client.until("response.output_audio.delta")

    await client.send({"type": "response.cancel"})
    events = await client.until("response.done")

    response = events[-1]["response"]
    assert response["status_details"]["reason"] == "client_cancelled"
    sent_ms = speech.duration_ms(audio_of(client.received))
    assert response["usage"]["output_token_details"]["audio_tokens"] == math.ceil(sent_ms / 50)
    full_ms = speech.duration_ms(speech.synthesize(phrases.CALLER_PHRASES["confirm"])) * 3
    assert sent_ms < full_ms


async def test_it_refuses_a_second_response_while_one_is_active(real_time_client):
    client = real_time_client
    await client.until("session.created")
    await client.send({"type": "response.create"})
    await client.until("response.created")

    await client.send({"type": "response.create"})
    error = await client.until("error")

    assert error[-1]["error"]["code"] == "conversation_already_has_active_response"


def test_frames_are_twenty_milliseconds():
    assert FRAME_BYTES == 20 * speech.BYTES_PER_MS
    assert base64.b64decode(append_event(b"\xff" * 160)["audio"]) == b"\xff" * 160


async def test_it_lets_the_response_run_on_speech_when_interrupt_response_is_false(
    real_time_client,
):
    client = real_time_client
    await client.until("session.created")
    session = pcmu_session(interrupt_response=False)
    await client.send({"type": "session.update", "session": session})
    await client.until("session.updated")
    await client.send({"type": "response.create"})
    await client.until("response.output_audio.delta")

    await client.send_frames(caller_frames("Okay.", lead_ms=0))
    events = await client.until("response.done")

    types = [event["type"] for event in events]
    assert "input_audio_buffer.speech_started" in types
    assert events[-1]["response"]["status"] == "completed"


async def test_it_leaves_the_response_to_the_client_when_create_response_is_false(connect):
    client = await connect()
    await open_reminder_call(client)
    await client.send({"type": "session.update", "session": pcmu_session(create_response=False)})
    await client.until("session.updated")

    await client.send_frames(caller_frames("Yes, I will be there."))
    await client.until("conversation.item.input_audio_transcription.completed")
    # Events are handled in order: a response of the server's own would come before this.
    await client.send({"type": "input_audio_buffer.clear"})
    after = await client.until("input_audio_buffer.cleared")

    assert [event["type"] for event in after] == ["input_audio_buffer.cleared"]
    await client.send({"type": "response.create"})
    answer = await client.until("response.done")
    assert answer[-1]["response"]["output"][0]["name"] == "record_outcome"
