"""Fixtures shared by the sandbox model tests: a running model server and a raw client."""

import asyncio
import base64
import json

import aiohttp
import pytest

from sandbox import speech
from sandbox.model import ModelServer

API_KEY = "sk-test-sandbox"
FRAME_BYTES = 160  # 20 ms of μ-law, as Twilio sends it

REMINDER_INSTRUCTIONS = """You are a reminder agent for Acme Dental.
Opening: "Hello, this is an automated assistant calling for Acme Dental. This call may be recorded. Say stop to opt out."
Question: "Can you confirm your appointment on Tuesday at nine?"
Goodbye: "Thank you. Goodbye."
Opt-out reply: "Understood, we will not call you again. Goodbye."
Robot reply: "Yes, I am an automated assistant."
"""


def tool(name, properties=None):
    return {
        "type": "function",
        "name": name,
        "description": f"The {name} tool.",
        "parameters": {"type": "object", "properties": properties or {}},
    }


REMINDER_TOOLS = [
    tool("record_outcome", {"outcome": {"type": "string"}}),
    tool("record_survey_answer", {"question_id": {"type": "string"}, "answer": {"type": "string"}}),
    tool("opt_out"),
    tool("end_call"),
]


def pcmu_session(instructions=REMINDER_INSTRUCTIONS, tools=REMINDER_TOOLS, **input_settings):
    return {
        "type": "realtime",
        "instructions": instructions,
        "tools": tools,
        "audio": {
            "input": {
                "format": {"type": "audio/pcmu"},
                "turn_detection": {"type": "server_vad", **input_settings},
                "transcription": {"model": "gpt-realtime-whisper"},
            },
            "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"},
        },
    }


def caller_frames(text, *, lead_ms=200, trail_ms=800):
    """The caller saying `text`, as 20 ms frames with silence around it."""
    audio = speech.silence(lead_ms) + speech.synthesize(text) + speech.silence(trail_ms)
    audio += speech.silence(20 - speech.duration_ms(audio) % 20)
    return [audio[i : i + FRAME_BYTES] for i in range(0, len(audio), FRAME_BYTES)]


def append_event(frame):
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(frame).decode()}


class RawRealtimeClient:
    """A minimal client over aiohttp, for protocol tests that need byte-level control."""

    def __init__(self, websocket, http):
        self.websocket = websocket
        self.http = http
        self.received = []

    async def send(self, event):
        await self.websocket.send_str(json.dumps(event))

    async def send_frames(self, frames):
        for frame in frames:
            await self.send(append_event(frame))

    async def next_event(self):
        message = await self.websocket.receive(timeout=20)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket ended: {message.type} {message.data}")
        event = json.loads(message.data)
        self.received.append(event)
        return event

    async def until(self, event_type):
        """Events up to and including the first of `event_type` (within 20 seconds)."""
        seen = []
        async with asyncio.timeout(20):
            while True:
                event = await self.next_event()
                seen.append(event)
                if event["type"] == event_type:
                    return seen

    async def close(self):
        await self.websocket.close()
        await self.http.close()


@pytest.fixture
def model_server():
    server = ModelServer(api_key=API_KEY, audio_pace=None)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def realtime_url(model_server):
    return model_server.base_url.replace("http", "ws") + "/v1/realtime?model=gpt-realtime"


@pytest.fixture
async def connect(realtime_url):
    clients = []

    async def open_client(headers=None, url=realtime_url):
        http = aiohttp.ClientSession()
        websocket = await http.ws_connect(
            url, headers={"Authorization": f"Bearer {API_KEY}", **(headers or {})}
        )
        client = RawRealtimeClient(websocket, http)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()


async def open_reminder_call(client, **session_overrides):
    """Configure a μ-law reminder session and let the agent say its opening."""
    await client.until("session.created")
    await client.send(
        {"type": "session.update", "session": {**pcmu_session(), **session_overrides}}
    )
    await client.until("session.updated")
    await client.send({"type": "response.create"})
    return await client.until("response.done")


def audio_of(events):
    return b"".join(
        base64.b64decode(event["delta"])
        for event in events
        if event["type"] == "response.output_audio.delta"
    )


def transcript_of(events):
    return "".join(
        event["delta"]
        for event in events
        if event["type"] == "response.output_audio_transcript.delta"
    )
