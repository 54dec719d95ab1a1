import asyncio

import aiohttp
import pytest

from sandbox.model import ModelServer
from tests.sandbox.conftest import API_KEY, open_reminder_call, pcmu_session


async def test_it_greets_a_connection_with_the_default_ga_session(connect):
    client = await connect()

    created = await client.next_event()

    assert created["type"] == "session.created"
    assert created["session"]["type"] == "realtime"
    assert created["session"]["object"] == "realtime.session"
    assert created["session"]["model"] == "gpt-realtime"
    assert created["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert created["session"]["expires_at"] > 0


async def test_it_applies_a_session_update_and_echoes_the_whole_session(connect):
    client = await connect()
    await client.until("session.created")

    await client.send({"type": "session.update", "session": pcmu_session()})
    updated = (await client.until("session.updated"))[-1]

    audio = updated["session"]["audio"]
    assert audio["input"]["format"] == {"type": "audio/pcmu"}
    assert audio["output"]["format"] == {"type": "audio/pcmu"}
    assert audio["input"]["turn_detection"]["silence_duration_ms"] == 500
    assert [tool["name"] for tool in updated["session"]["tools"]] == [
        "record_outcome",
        "record_survey_answer",
        "opt_out",
        "end_call",
    ]


async def test_it_refuses_the_beta_header_and_closes_with_4000(connect):
    client = await connect(headers={"OpenAI-Beta": "realtime=v1"})

    error = await client.next_event()
    closing = await client.websocket.receive()

    assert error["type"] == "error"
    assert error["error"]["code"] == "beta_api_shape_disabled"
    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert closing.data == 4000


async def test_it_refuses_a_flat_beta_session_shape_and_closes_with_4000(connect):
    client = await connect()
    await client.until("session.created")

    await client.send(
        {
            "type": "session.update",
            "session": {"modalities": ["audio", "text"], "input_audio_format": "g711_ulaw"},
        }
    )
    error = await client.next_event()
    closing = await client.websocket.receive()

    assert error["error"]["code"] == "beta_api_shape_disabled"
    assert closing.data == 4000


async def test_it_rejects_a_rate_on_g711_and_keeps_the_session_as_it_was(connect, model_server):
    client = await connect()
    await client.until("session.created")
    session = pcmu_session()
    session["audio"]["input"]["format"] = {"type": "audio/pcmu", "rate": 8000}

    await client.send({"type": "session.update", "event_id": "evt_rate", "session": session})
    error = await client.next_event()

    assert error["type"] == "error"
    assert error["error"]["code"] == "unknown_parameter"
    assert error["error"]["param"] == "session.audio.input.format.rate"
    assert error["error"]["event_id"] == "evt_rate"
    assert model_server.sessions[0].config.input_format == {"type": "audio/pcm", "rate": 24000}
    assert model_server.sessions[0].config.instructions == ""


async def test_it_requires_the_session_type(connect):
    client = await connect()
    await client.until("session.created")
    session = pcmu_session()
    del session["type"]

    await client.send({"type": "session.update", "session": session})
    error = await client.next_event()

    assert error["error"]["code"] == "missing_required_parameter"
    assert error["error"]["param"] == "session.type"


@pytest.mark.parametrize(
    ("audio_format", "param"),
    [
        ({"type": "audio/pcm", "rate": 16000}, "session.audio.output.format.rate"),
        ({"type": "g711_ulaw"}, "session.audio.output.format.type"),
    ],
)
async def test_it_rejects_unsupported_output_formats(connect, audio_format, param):
    client = await connect()
    await client.until("session.created")

    await client.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"output": {"format": audio_format}}},
        }
    )
    error = await client.next_event()

    assert error["error"]["code"] == "invalid_value"
    assert error["error"]["param"] == param


async def test_it_reports_malformed_json_and_keeps_the_session_open(connect):
    client = await connect()
    await client.until("session.created")

    await client.websocket.send_str("{not json")
    error = await client.next_event()
    await client.send({"type": "session.update", "session": pcmu_session()})
    updated = await client.next_event()

    assert error["error"]["code"] == "invalid_json"
    assert updated["type"] == "session.updated"


async def test_it_reports_an_unknown_event_type(connect):
    client = await connect()
    await client.until("session.created")

    await client.send({"type": "session.refresh", "event_id": "evt_1"})
    error = await client.next_event()

    assert error["error"]["code"] == "invalid_value"
    assert error["error"]["param"] == "type"
    assert error["error"]["event_id"] == "evt_1"


@pytest.mark.parametrize(
    ("event", "code", "param"),
    [
        ({"type": "input_audio_buffer.append"}, "missing_required_parameter", "audio"),
        (
            {"type": "input_audio_buffer.append", "audio": "@@not base64@@"},
            "invalid_value",
            "audio",
        ),
        ({"event_id": "x"}, "missing_required_parameter", "type"),
        ({"type": "conversation.item.create"}, "missing_required_parameter", "item"),
        (
            {"type": "conversation.item.create", "item": {"type": "function_call_output"}},
            "missing_required_parameter",
            "item.call_id",
        ),
        ({"type": "session.update"}, "missing_required_parameter", "session"),
        (
            {"type": "conversation.item.truncate", "item_id": "item_missing", "audio_end_ms": 0},
            "item_not_found",
            "item_id",
        ),
    ],
)
async def test_it_reports_malformed_events(connect, event, code, param):
    client = await connect()
    await client.until("session.created")

    await client.send(event)
    error = await client.next_event()

    assert error["type"] == "error"
    assert (error["error"]["code"], error["error"]["param"]) == (code, param)


async def test_it_refuses_a_commit_of_an_empty_buffer(connect):
    client = await connect()
    await client.until("session.created")

    await client.send({"type": "input_audio_buffer.commit"})
    error = await client.next_event()

    assert error["error"]["code"] == "input_audio_buffer_commit_empty"


async def test_it_refuses_cancel_when_no_response_is_active(connect):
    client = await connect()
    await client.until("session.created")

    await client.send({"type": "response.cancel"})
    error = await client.next_event()

    assert error["error"]["code"] == "response_cancel_not_active"


async def test_it_refuses_a_truncate_beyond_the_items_audio(connect):
    client = await connect()
    opening = await open_reminder_call(client)
    item = opening[-1]["response"]["output"][0]
    audio_ms = sum(
        len(event["delta"]) * 3 // 4 // 8
        for event in client.received
        if event["type"] == "response.output_audio.delta"
    )

    await client.send(
        {
            "type": "conversation.item.truncate",
            "item_id": item["id"],
            "content_index": 0,
            "audio_end_ms": audio_ms + 1,
        }
    )
    error = await client.next_event()

    assert error["error"]["code"] == "invalid_value"
    assert error["error"]["param"] == "audio_end_ms"
    assert f"{audio_ms}ms" in error["error"]["message"]


async def test_it_truncates_an_assistant_item_and_drops_its_transcript(connect, model_server):
    client = await connect()
    opening = await open_reminder_call(client)
    item_id = opening[-1]["response"]["output"][0]["id"]

    await client.send(
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": 1500,
        }
    )
    truncated = await client.next_event()
    await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
    retrieved = await client.next_event()

    assert truncated == {
        "type": "conversation.item.truncated",
        "event_id": truncated["event_id"],
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": 1500,
    }
    assert retrieved["item"]["content"] == [{"type": "output_audio", "transcript": ""}]
    assert model_server.sessions[0].items[item_id].audio_ms == 1500


async def test_it_rejects_a_request_without_the_right_api_key(realtime_url):
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(realtime_url, headers={"Authorization": "Bearer sk-wrong"})
        with pytest.raises(aiohttp.WSServerHandshakeError) as anonymous:
            await http.ws_connect(realtime_url)

    assert refused.value.status == 401
    assert anonymous.value.status == 401


async def test_it_closes_a_session_at_its_maximum_duration():
    with ModelServer(api_key=API_KEY, max_session_seconds=0.3) as server:
        url = server.base_url.replace("http", "ws") + "/v1/realtime?model=gpt-realtime"
        async with aiohttp.ClientSession() as http:
            websocket = await http.ws_connect(url, headers={"Authorization": f"Bearer {API_KEY}"})
            created = await websocket.receive_json(timeout=10)
            expired = await websocket.receive_json(timeout=10)
            closing = await websocket.receive(timeout=10)

    assert created["type"] == "session.created"
    assert expired["error"]["code"] == "session_expired"
    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert closing.data == 1001


async def test_it_logs_every_event_both_ways_with_aware_times(connect, model_server):
    client = await connect()
    await client.until("session.created")
    await client.send({"type": "session.update", "session": pcmu_session()})
    await client.until("session.updated")
    await asyncio.sleep(0)

    log = model_server.sessions[0].log

    assert [(entry.direction, entry.type) for entry in log] == [
        ("sent", "session.created"),
        ("received", "session.update"),
        ("sent", "session.updated"),
    ]
    assert all(entry.at.tzinfo is not None for entry in log)
    assert log[0].at <= log[1].at <= log[2].at
    assert model_server.session(client.received[0]["session"]["id"]) is model_server.sessions[0]


async def test_it_closes_open_sessions_when_the_server_stops():
    server = ModelServer(api_key=API_KEY)
    url = server.start().replace("http", "ws") + "/v1/realtime?model=gpt-realtime"
    async with aiohttp.ClientSession() as http:
        websocket = await http.ws_connect(url, headers={"Authorization": f"Bearer {API_KEY}"})
        await websocket.receive_json(timeout=10)

        await asyncio.to_thread(server.stop)
        closing = await websocket.receive(timeout=10)

    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert closing.data == 1001
    assert server.sessions[0].is_closed


async def test_it_keeps_concurrent_sessions_apart(connect, model_server):
    first, second = await connect(), await connect()
    await open_reminder_call(first)
    await second.until("session.created")

    await second.send({"type": "response.cancel"})
    error = await second.next_event()
    await first.send({"type": "response.create"})
    reminder = await first.until("response.done")

    assert error["error"]["code"] == "response_cancel_not_active"
    assert reminder[-1]["response"]["status"] == "completed"
    assert len(model_server.sessions) == 2
    assert model_server.sessions[1].config.instructions == ""
