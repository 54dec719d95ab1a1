"""Fixtures for media-stream tests: the sandbox model on a free port, a call ready to be
bridged, and `TwilioSide`, the test playing Twilio's half of the Media Streams protocol."""

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from calls.media_tokens import media_token_issue
from calls.models import CallStatus
from calls.public_urls import media_stream_url
from campaigns.models import Consent
from sandbox import speech
from sandbox.carrier.callbacks import twilio_signature
from sandbox.model import ModelServer
from tests.factories import (
    AgentFactory,
    CallFactory,
    CampaignFactory,
    ConsentFactory,
    ContactFactory,
    TargetFactory,
)
from voiceops.asgi import application

API_KEY = "sk-test-bridge"
AUTH_TOKEN = "test-twilio-auth-token"
FRAME_BYTES = 160  # 20 ms of μ-law


@pytest.fixture
def make_model_server(settings):
    """Start the sandbox model (`audio_pace` None: audio as fast as it can be made) and point
    the project at it. No test here reaches a carrier: the auth token only signs the media
    socket's upgrade, as Twilio does."""
    servers = []

    def start(audio_pace: float | None = None) -> ModelServer:
        server = ModelServer(api_key=API_KEY, audio_pace=audio_pace)
        server.start()
        servers.append(server)
        settings.OPENAI_BASE_URL = server.openai_base_url
        settings.OPENAI_API_KEY = API_KEY
        settings.TWILIO_ACCOUNT_SID = ""
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def model_server(make_model_server):
    return make_model_server()


@dataclass
class ReminderCall:
    call: object
    agent: object
    contact: object
    sid: str

    def token(self) -> str:
        return media_token_issue(call_id=self.call.pk, call_sid=self.sid)


_sid_counter = iter(range(10**6))


@sync_to_async
def reminder_call(**agent_fields) -> ReminderCall:
    """An answered outbound reminder call, its contact with consent on file."""
    fields = {
        "instructions": "Remind {{ contact.name }} of the appointment on {{ appointment }}.",
        "greeting": "Can you confirm your appointment on {{ appointment }}?",
        "tools": ["end_call", "record_outcome", "opt_out", "schedule_callback"],
        "model": "gpt-realtime",
        **agent_fields,
    }
    agent = AgentFactory(**fields)
    campaign = CampaignFactory(organization=agent.organization, agent=agent)
    contact = ContactFactory(organization=agent.organization)
    ConsentFactory(contact=contact, purpose="informational")
    target = TargetFactory(
        campaign=campaign, contact=contact, variables={"appointment": "Tuesday at nine"}
    )
    sid = f"CA{next(_sid_counter):032x}"
    call = CallFactory(target=target, carrier_sid=sid, status=CallStatus.IN_PROGRESS)
    return ReminderCall(call=call, agent=agent, contact=contact, sid=sid)


def consent_is_revoked(contact) -> bool:
    return Consent.objects.get(contact=contact).revoked_at is not None


def caller_audio(text: str, *, lead_ms: int = 100, trail_ms: int = 900) -> bytes:
    audio = speech.silence(lead_ms) + speech.synthesize(text) + speech.silence(trail_ms)
    return audio + speech.silence(20 - speech.duration_ms(audio) % 20)


@dataclass
class Played:
    payload: str
    size: int
    played: int = 0


@dataclass
class TwilioSide:
    """Twilio's half of a Media Stream, driven by a test.

    Agent audio is queued and "played" against the wall clock (times `speed`); each mark is
    echoed when the audio before it has played, and `clear` drops the queue and echoes every
    pending mark at once, as Twilio does. Caller audio goes out as 20 ms media frames.
    """

    communicator: WebsocketCommunicator
    speed: float = 1.0
    stream_sid: str = "MZ00000000000000000000000000000001"
    received: list[dict] = field(default_factory=list)
    audio: list[Played] = field(default_factory=list)
    queue: list = field(default_factory=list)  # Played chunks and mark names, in order
    close_code: int | None = None
    on_close: object = None  # async callable run the moment the close arrives
    seen_at_close: object = None
    is_closed: bool = False
    unplayed_at_close: int = 0
    timestamp_ms: int = 0
    _tasks: list = field(default_factory=list)

    async def open(self, *, call_sid: str, token: str | None) -> None:
        connected, _ = await self.communicator.connect()
        assert connected
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._play())]
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        parameters = {"token": token} if token is not None else {}
        await self.send(
            {
                "event": "start",
                "sequenceNumber": "1",
                "streamSid": self.stream_sid,
                "start": {
                    "streamSid": self.stream_sid,
                    "accountSid": "AC" + "0" * 32,
                    "callSid": call_sid,
                    "tracks": ["inbound"],
                    "customParameters": parameters,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            }
        )

    async def send(self, message: dict) -> None:
        await self.communicator.send_to(text_data=json.dumps(message))

    async def send_audio(self, audio: bytes, *, realtime: bool = False) -> list[str]:
        """Send caller audio as media frames; returns the payloads sent, in order."""
        payloads = []
        for start in range(0, len(audio), FRAME_BYTES):
            payload = base64.b64encode(audio[start : start + FRAME_BYTES]).decode()
            payloads.append(payload)
            self.timestamp_ms += 20
            await self.send(
                {
                    "event": "media",
                    "streamSid": self.stream_sid,
                    "media": {
                        "track": "inbound",
                        "chunk": "1",
                        "timestamp": str(self.timestamp_ms),
                        "payload": payload,
                    },
                }
            )
            await asyncio.sleep(0.02 if realtime else 0)
        return payloads

    async def say(self, text: str, **options) -> list[str]:
        return await self.send_audio(await asyncio.to_thread(caller_audio, text), **options)

    async def press(self, digit: str) -> None:
        await self.send(
            {
                "event": "dtmf",
                "streamSid": self.stream_sid,
                "dtmf": {"track": "inbound_track", "digit": digit},
            }
        )

    async def _read(self) -> None:
        while True:
            output = await self.communicator.receive_output(timeout=600)
            if output["type"] == "websocket.close":
                self.close_code = output.get("code", 1000)
                self.unplayed_at_close = self.unplayed_bytes()
                if self.on_close is not None:
                    self.seen_at_close = await self.on_close()
                self.is_closed = True
                return
            if output["type"] != "websocket.send":
                continue
            message = json.loads(output["text"])
            self.received.append(message)
            event = message.get("event")
            if event == "media":
                payload = message["media"]["payload"]
                chunk = Played(payload, len(base64.b64decode(payload)))
                self.audio.append(chunk)
                self.queue.append(chunk)
            elif event == "mark":
                self.queue.append(message["mark"]["name"])
            elif event == "clear":
                pending = [entry for entry in self.queue if isinstance(entry, str)]
                self.queue.clear()
                for name in pending:
                    await self._echo(name)

    async def _echo(self, name: str) -> None:
        if not self.is_closed:
            await self.send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})

    async def _play(self) -> None:
        """Play queued audio at `speed` times real time, echoing marks as playback reaches them."""
        last = time.monotonic()
        budget = 0.0
        while not self.is_closed:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            budget += (now - last) * 1000 * 8 * self.speed
            last = now
            while self.queue:
                head = self.queue[0]
                if isinstance(head, str):
                    self.queue.pop(0)
                    await self._echo(head)
                    continue
                step = min(int(budget), head.size - head.played)
                head.played += step
                budget -= step
                if head.played < head.size:
                    break
                self.queue.pop(0)
            if not self.queue:
                budget = 0.0

    def unplayed_bytes(self) -> int:
        return sum(entry.size - entry.played for entry in self.queue if isinstance(entry, Played))

    def events(self, name: str) -> list[dict]:
        return [message for message in self.received if message.get("event") == name]

    async def until(self, predicate, within: float = 30) -> None:
        async with asyncio.timeout(within):
            # Predicates look at state several tasks change; polling is the plain way.
            while not predicate():  # noqa: ASYNC110
                await asyncio.sleep(0.02)

    async def until_quiet(self, *, quiet_seconds: float = 0.4, within: float = 30) -> None:
        """Until agent audio has arrived, all of it has played, and nothing new came for a while."""
        async with asyncio.timeout(within):
            while True:
                count = len(self.audio)
                if count and not self.unplayed_bytes():
                    await asyncio.sleep(quiet_seconds)
                    if len(self.audio) == count and not self.unplayed_bytes():
                        return
                await asyncio.sleep(0.02)

    async def until_closed(self, within: float = 30) -> int:
        await self.until(lambda: self.is_closed, within)
        return self.close_code

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.communicator.disconnect()


def signed_upgrade_headers(auth_token: str = AUTH_TOKEN) -> list[tuple[bytes, bytes]]:
    """The `X-Twilio-Signature` Twilio puts on the media socket's upgrade request."""
    signature = twilio_signature(auth_token, media_stream_url())
    return [(b"x-twilio-signature", signature.encode())]


@pytest.fixture
async def twilio():
    """Open Twilio sides; every one is disconnected at the end of the test."""
    sides = []

    def open_side(speed: float = 4.0, *, headers=None) -> TwilioSide:
        if headers is None:
            headers = signed_upgrade_headers()
        communicator = WebsocketCommunicator(application, "/ws/media/", headers=headers)
        side = TwilioSide(communicator, speed=speed)
        sides.append(side)
        return side

    yield open_side
    for side in sides:
        await side.stop()


def model_session_events(
    server: ModelServer, event_type: str, *, direction: str = "received", session: int = 0
):
    return server.sessions[session].events(direction, event_type)
