"""The carrier side of the bridge benchmark: many Twilio Media Streams from one event loop.

Each caller plays Twilio's half of the protocol (twilio.md §1): `connected`, `start` with
the signed token, then a 20 ms μ-law `media` frame every 20 ms whatever happens, agent
audio "played" against the clock at 8 bytes per ms, each `mark` echoed once the audio
before it has played, and on `clear` the queue dropped and every pending mark echoed at
once. Frames of different calls are spread over the 20 ms period, as independent calls'
are, rather than sent in one burst.

Callers behave like people: they answer once the agent has finished and paused, and one
caller in `barge_in_every` talks over the agent a second into its turn, which is what
makes the model send `speech_started` and the bridge send `clear`. Every frame and every
agent payload is stamped (`bench.bridge_stamps`), so the model process and this one can
time each payload at both ends.
"""

import asyncio
import contextlib
import json
import time
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench.bridge_stamps import BYTES_PER_MS, IS_SPEECH, StampedAudio, payload_after, read_stamp

FRAME_MS = 20
FRAME_BYTES = FRAME_MS * BYTES_PER_MS
SEND_SLOTS = 10  # a 20 ms period cut into 2 ms slots
MARK_ECHO_SECONDS = 0.01
BARGE_IN_AFTER_SECONDS = 1.0  # of agent audio heard before a barging caller talks
BARGE_IN_MIN_QUEUED_SECONDS = 0.5  # only while this much is left to play: `clear` has work
BARGE_IN_SPEECH_SECONDS = 0.6
REPLY_PAUSE_SECONDS = 0.6
REPLY_SPEECH_SECONDS = 1.0
NUDGE_AFTER_SECONDS = 5.0  # a caller who heard nothing for this long says something
OPEN_CONCURRENCY = 16
MEDIA_PREFIX = '{"event":"media"'


@dataclass(frozen=True)
class CallTicket:
    """What Twilio knows about one call when it opens the stream."""

    index: int
    call_sid: str
    token: str
    is_barging: bool


@dataclass
class CallerRecords:
    """Timed observations of every caller (monotonic seconds)."""

    frame_call: array = field(default_factory=lambda: array("I"))
    frame_sequence: array = field(default_factory=lambda: array("I"))
    frame_at: array = field(default_factory=lambda: array("d"))
    frame_lateness: array = field(default_factory=lambda: array("d"))
    media_call: array = field(default_factory=lambda: array("I"))
    media_session: array = field(default_factory=lambda: array("I"))
    media_sequence: array = field(default_factory=lambda: array("I"))
    media_at: array = field(default_factory=lambda: array("d"))
    clear_call: array = field(default_factory=lambda: array("I"))
    clear_at: array = field(default_factory=lambda: array("d"))
    refused: list[str] = field(default_factory=list)  # why calls never streamed
    closed_early: list[int] = field(default_factory=list)  # calls the server hung up on
    window: tuple[float, float] = (0.0, 0.0)


class Caller:
    def __init__(self, ticket: CallTicket, records: CallerRecords, audio: StampedAudio):
        self.ticket = ticket
        self.audio = audio
        self.index = ticket.index
        self.records = records
        self.stream_sid = f"MZ{ticket.index:032x}"
        self.websocket: ClientConnection | None = None
        self.sequence = 0
        self.is_streaming = False
        self.is_stopping = False
        self.playout_end = 0.0  # when the agent audio queued so far will have played
        self.playing_since: float | None = None
        self.marks: deque[tuple[float, str]] = deque()
        self.speaking_until = 0.0
        self.spoke_at = time.monotonic()
        self.has_heard_agent = False  # since the caller last spoke
        self.reader: asyncio.Task | None = None

    async def open(self, url: str, *, headers: dict[str, str]) -> None:
        self.websocket = await connect(
            url,
            additional_headers=headers,
            compression=None,
            open_timeout=20,
            close_timeout=2,
            ping_interval=None,
        )
        await self.websocket.send(
            json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        )
        start = {
            "streamSid": self.stream_sid,
            "accountSid": "AC" + "0" * 32,
            "callSid": self.ticket.call_sid,
            "tracks": ["inbound"],
            "customParameters": {"token": self.ticket.token},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }
        await self.websocket.send(
            json.dumps(
                {
                    "event": "start",
                    "sequenceNumber": "1",
                    "streamSid": self.stream_sid,
                    "start": start,
                }
            )
        )
        self.spoke_at = time.monotonic()
        self.is_streaming = True
        self.reader = asyncio.get_running_loop().create_task(self.read())

    # Caller audio.

    def _frame_flags(self, now: float) -> int:
        if self.speaking_until:
            if now < self.speaking_until:
                return IS_SPEECH
            self.speaking_until = 0.0
            self.spoke_at = now
        queued = self.playout_end - now
        if queued > 0:
            if (
                self.ticket.is_barging
                and self.has_heard_agent
                and self.playing_since is not None
                and now - self.playing_since >= BARGE_IN_AFTER_SECONDS
                and queued >= BARGE_IN_MIN_QUEUED_SECONDS
            ):
                return self._speak(now, BARGE_IN_SPEECH_SECONDS)
            return 0
        if self.has_heard_agent and now - self.playout_end >= REPLY_PAUSE_SECONDS:
            return self._speak(now, REPLY_SPEECH_SECONDS)
        if now - max(self.spoke_at, self.playout_end) >= NUDGE_AFTER_SECONDS:
            return self._speak(now, REPLY_SPEECH_SECONDS)
        return 0

    def _speak(self, now: float, seconds: float) -> int:
        self.speaking_until = now + seconds
        self.has_heard_agent = False
        return IS_SPEECH

    async def send_frame(self, due: float) -> None:
        now = time.monotonic()
        flags = self._frame_flags(now)
        sequence = self.sequence
        self.sequence += 1
        text = (
            '{"event":"media","sequenceNumber":"'
            + str(sequence + 2)
            + '","streamSid":"'
            + self.stream_sid
            + '","media":{"track":"inbound","chunk":"'
            + str(sequence + 1)
            + '","timestamp":"'
            + str((sequence + 1) * FRAME_MS)
            + '","payload":"'
            + self.audio.payload(self.index, sequence, flags)
            + '"}}'
        )
        records = self.records
        records.frame_call.append(self.index)
        records.frame_sequence.append(sequence)
        records.frame_lateness.append(now - due)
        records.frame_at.append(time.monotonic())
        try:
            await self.websocket.send(text)
        except ConnectionClosed:
            self.is_streaming = False

    # Agent audio, marks, clear.

    async def read(self) -> None:
        records = self.records
        try:
            async for text in self.websocket:
                now = time.monotonic()
                if text.startswith(MEDIA_PREFIX):
                    head = payload_after(text, '"payload":"')
                    session, sequence, _ = read_stamp(head)
                    records.media_call.append(self.index)
                    records.media_session.append(session)
                    records.media_sequence.append(sequence)
                    records.media_at.append(now)
                    payload_chars = len(text) - text.find('"payload":"') - len('"payload":"') - 3
                    self._queue_audio(now, payload_chars * 3 // 4)
                    continue
                message = json.loads(text)
                kind = message.get("event")
                if kind == "mark":
                    self.marks.append((self.playout_end, message["mark"]["name"]))
                elif kind == "clear":
                    records.clear_call.append(self.index)
                    records.clear_at.append(now)
                    self.playout_end = now
                    self.playing_since = None
                    pending = [name for _, name in self.marks]
                    self.marks.clear()
                    for name in pending:
                        await self._echo(name)
        except ConnectionClosed:
            pass
        if not self.is_stopping:
            self.records.closed_early.append(self.index)
        self.is_streaming = False

    def _queue_audio(self, now: float, size: int) -> None:
        if self.playout_end <= now:
            self.playout_end = now
            self.playing_since = now
        self.playout_end += size / BYTES_PER_MS / 1000
        self.has_heard_agent = True

    async def _echo(self, name: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.websocket.send(
                json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})
            )

    async def echo_due_marks(self, now: float) -> None:
        while self.marks and self.marks[0][0] <= now:
            _, name = self.marks.popleft()
            await self._echo(name)

    async def stop(self) -> None:
        self.is_stopping = True
        self.is_streaming = False
        if self.websocket is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await self.websocket.send(
                json.dumps(
                    {
                        "event": "stop",
                        "sequenceNumber": str(self.sequence + 2),
                        "streamSid": self.stream_sid,
                        "stop": {"accountSid": "AC" + "0" * 32, "callSid": self.ticket.call_sid},
                    }
                )
            )
            await self.websocket.close()
        if self.reader is not None:
            await self.reader


class CallerCrowd:
    """All callers of one run, their frame clock and their mark player."""

    def __init__(self, tickets: list[CallTicket], url: str, *, headers: dict[str, str]):
        self.headers = headers  # on each upgrade request: Twilio's signature
        self.records = CallerRecords()
        audio = StampedAudio(FRAME_BYTES)
        self.callers = [Caller(ticket, self.records, audio) for ticket in tickets]
        self.url = url
        self.slots: list[list[Caller]] = [[] for _ in range(SEND_SLOTS)]
        self.is_sending = True

    async def _open(self, caller: Caller, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                await caller.open(self.url, headers=self.headers)
            except (OSError, TimeoutError, InvalidHandshake) as error:
                self.records.refused.append(f"call {caller.index}: {error!r}")
                return
        self.slots[caller.index % SEND_SLOTS].append(caller)

    async def _send_frames(self) -> None:
        loop = asyncio.get_running_loop()
        period = FRAME_MS / 1000 / SEND_SLOTS
        started = loop.time()  # the loop's clock is time.monotonic()
        tick = 0
        while self.is_sending:
            due = started + tick * period
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            for caller in self.slots[tick % SEND_SLOTS]:
                if caller.is_streaming:
                    await caller.send_frame(due)
            tick += 1

    async def _play(self) -> None:
        while True:
            await asyncio.sleep(MARK_ECHO_SECONDS)
            now = time.monotonic()
            for caller in self.callers:
                if caller.marks:
                    await caller.echo_due_marks(now)

    async def run(
        self,
        *,
        measure_seconds: float,
        on_window_edge: Callable[[], None],
        settle_seconds: float = 1.0,
        greeting_timeout_seconds: float = 30.0,
        drain_seconds: float = 1.5,
    ) -> CallerRecords:
        """Open every stream, wait until each has heard its greeting, measure, drain, hang up.
        `on_window_edge` runs at the start and at the end of the measured window."""
        loop = asyncio.get_running_loop()
        sender = loop.create_task(self._send_frames())
        player = loop.create_task(self._play())
        try:
            gate = asyncio.Semaphore(OPEN_CONCURRENCY)
            await asyncio.gather(*(self._open(caller, gate) for caller in self.callers))
            greeted_by = loop.time() + greeting_timeout_seconds
            # Greetings arrive on every caller's own reader task: polling is the plain way.
            while loop.time() < greeted_by and not all(  # noqa: ASYNC110
                caller.has_heard_agent or caller.speaking_until or not caller.is_streaming
                for caller in self.callers
                if caller.websocket is not None
            ):
                await asyncio.sleep(0.1)
            await asyncio.sleep(settle_seconds)
            started = time.monotonic()
            on_window_edge()
            await asyncio.sleep(measure_seconds)
            on_window_edge()
            self.records.window = (started, time.monotonic())
            self.is_sending = False
            await asyncio.sleep(drain_seconds)
        finally:
            self.is_sending = False
            sender.cancel()
            player.cancel()
            await asyncio.gather(sender, player, return_exceptions=True)
            await asyncio.gather(*(caller.stop() for caller in self.callers))
        return self.records
