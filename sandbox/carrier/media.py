"""The carrier's side of a bidirectional Media Stream (`<Connect><Stream>`), in real time.

Twilio → app: `connected`, `start`, a `media` frame every 20 ms (160 μ-law bytes of what the
callee says, silence included), `dtmf`, echoed `mark`s and `stop`. App → Twilio: `media`
(queued and played at 8 bytes per millisecond), `mark` and `clear`. Messages that break the
protocol are logged as Twilio's debugger would (31950/31951) and otherwise ignored.

As on Twilio, the WebSocket URL loses its query string, the upgrade request carries an
`X-Twilio-Signature` over the URL, and when the stream ends the audio still queued is
dropped: an app that wants its goodbye heard waits for the mark before closing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from sandbox.carrier.callbacks import twilio_signature
from sandbox.carrier.calls import Call, MarkEcho, new_sid
from sandbox.carrier.line import PhoneLine
from sandbox.carrier.playback import PlaybackQueue
from sandbox.carrier.twiml import Stream

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10
APP_EVENTS = ("media", "mark", "clear")


class StreamConnectFailed(Exception):
    """The app's WebSocket could not be reached or refused the upgrade (Twilio's 31920)."""


class MediaStream:
    """One stream of one call, attached to the call's phone line while it runs."""

    def __init__(
        self,
        *,
        call: Call,
        line: PhoneLine,
        stream: Stream,
        session: aiohttp.ClientSession,
        auth_token: str,
    ):
        self.call = call
        self.line = line
        self.stream = stream
        self.session = session
        self.auth_token = auth_token
        self.stream_sid = new_sid("MZ")
        self.playback = PlaybackQueue()
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._sequence_number = 0
        self._chunk = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.on_started: Callable[[], None] | None = None
        self.has_started = False

    @property
    def url(self) -> str:
        # Twilio drops the query string of a <Stream> url.
        return urlunsplit(urlsplit(self.stream.url)._replace(query="", fragment=""))

    async def run(self) -> None:
        """Connect, stream until the app closes the socket; cancelling sends `stop` first."""
        if urlsplit(self.stream.url).query:
            self.call.note("media", "note", "query string dropped from stream url")
        headers = {"X-Twilio-Signature": twilio_signature(self.auth_token, self.url)}
        self.call.note("media", "sent", "websocket upgrade", url=self.url)
        try:
            self._ws = await self.session.ws_connect(
                self.url,
                headers=headers,
                timeout=aiohttp.ClientWSTimeout(ws_close=5),
                max_msg_size=0,
                autoping=True,
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            self.call.note("media", "received", "websocket upgrade failed", error=repr(error))
            raise StreamConnectFailed(
                f"31920: could not connect to {self.url}: {error!r}"
            ) from error
        self.has_started = True
        self.call.stream_sids.append(self.stream_sid)
        if self.on_started is not None:
            self.on_started()
        self.call.custom_parameters.update(self.stream.parameters)
        sender = asyncio.create_task(self._send_in_order(self._ws))
        try:
            self._queue_handshake()
            self.line.attach(self)
            await self._receive(self._ws)
            self.call.note("media", "received", "websocket closed by app")
        finally:
            self.line.detach(self)
            await self._finish(sender)

    async def _finish(self, sender: asyncio.Task[None]) -> None:
        dropped, _ = self.playback.clear()
        if dropped:
            self.call.note("media", "note", "queued audio dropped at stream end", bytes=dropped)
        ws = self._ws
        assert ws is not None
        if not ws.closed:
            self._queue({"event": "stop", "stop": self._identity()})
        self._outbox.put_nowait(None)
        # The outbox is bounded by what is already queued; shield so `stop` goes out even
        # when the stream ends because its task was cancelled.
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError, ConnectionError):
            await asyncio.shield(sender)
        with contextlib.suppress(aiohttp.ClientError, ConnectionError):
            await asyncio.shield(ws.close())

    # Twilio → app

    def _identity(self) -> dict[str, str]:
        return {"accountSid": self.call.account_sid, "callSid": self.call.sid}

    def _queue_handshake(self) -> None:
        self._outbox.put_nowait({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        self._queue(
            {
                "event": "start",
                "start": {
                    **self._identity(),
                    "streamSid": self.stream_sid,
                    "tracks": ["inbound"],
                    "customParameters": dict(self.stream.parameters),
                    "mediaFormat": {
                        "encoding": "audio/x-mulaw",
                        "sampleRate": 8000,
                        "channels": 1,
                    },
                },
            }
        )

    def _queue(self, message: dict[str, Any]) -> None:
        self._sequence_number += 1
        event = message.pop("event")
        self._outbox.put_nowait(
            {
                "event": event,
                "sequenceNumber": str(self._sequence_number),
                "streamSid": self.stream_sid,
                **message,
            }
        )

    async def _send_in_order(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while (message := await self._outbox.get()) is not None:
            if ws.closed:
                continue
            self.call.note("media", "sent", message["event"], **_loggable(message))
            try:
                await ws.send_str(json.dumps(message))
            except (aiohttp.ClientError, ConnectionError) as error:
                self.call.note("media", "note", "send failed", error=repr(error))

    def exchange(self, caller_frame: bytes, at_ms: int) -> bytes:
        """Called by the phone line every 20 ms."""
        played, due_marks = self.playback.play_frame()
        self._echo_marks(due_marks, at_ms, was_cleared=False)
        self._chunk += 1
        self._queue(
            {
                "event": "media",
                "media": {
                    "track": "inbound",
                    "chunk": str(self._chunk),
                    "timestamp": str((self._chunk - 1) * 20),
                    "payload": base64.b64encode(caller_frame).decode(),
                },
            }
        )
        return played

    def press(self, digit: str, at_ms: int) -> None:
        self._queue({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": digit}})

    def _echo_marks(self, names: list[str], at_ms: int, *, was_cleared: bool) -> None:
        for name in names:
            self.call.marks_echoed.append(MarkEcho(name, at_ms, was_cleared))
            self._queue({"event": "mark", "mark": {"name": name}})

    # app → Twilio

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self._handle_text(message.data)
            elif message.type == aiohttp.WSMsgType.BINARY:
                self._reject("31950", "binary frame (Media Streams takes text frames only)")
            elif message.type == aiohttp.WSMsgType.ERROR:
                self.call.note("media", "received", "websocket error", error=repr(ws.exception()))
                return

    def _handle_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            self._reject("31951", f"not JSON: {data[:80]!r}")
            return
        if not isinstance(message, dict):
            self._reject("31951", f"not a JSON object: {data[:80]!r}")
            return
        event = message.get("event")
        self.call.note("media", "received", str(event), **_loggable(message))
        if event not in APP_EVENTS:
            self._reject("31951", f"unknown event {event!r}")
            return
        if message.get("streamSid") != self.stream_sid:
            self._reject("31951", f"{event} with streamSid {message.get('streamSid')!r}")
            return
        at_ms = self.line.now_ms
        if event == "media":
            self._handle_media(message)
        elif event == "mark":
            name = (message.get("mark") or {}).get("name")
            if not isinstance(name, str) or not name:
                self._reject("31951", "mark without a name")
                return
            self._echo_marks(self.playback.add_mark(name), at_ms, was_cleared=False)
        else:
            dropped, pending = self.playback.clear()
            self.call.cleared_bytes += dropped
            self.call.note("media", "note", "cleared", dropped_bytes=dropped, marks=pending)
            self._echo_marks(pending, at_ms, was_cleared=True)

    def _handle_media(self, message: dict[str, Any]) -> None:
        payload = (message.get("media") or {}).get("payload")
        if not isinstance(payload, str):
            self._reject("31951", "media without a payload")
            return
        try:
            audio = base64.b64decode(payload, validate=True)
        except binascii.Error:
            self._reject("31951", "media payload is not base64")
            return
        self.playback.enqueue(audio)

    def _reject(self, code: str, reason: str) -> None:
        self.call.protocol_errors.append(f"{code}: {reason}")
        self.call.note("media", "note", "protocol error", code=code, reason=reason)
        logger.warning("call %s stream %s: %s %s", self.call.sid, self.stream_sid, code, reason)


def _loggable(message: dict[str, Any]) -> dict[str, Any]:
    """The message for the call log, with audio payloads reduced to their size."""
    detail = {key: value for key, value in message.items() if key != "event"}
    media = detail.get("media")
    if isinstance(media, dict) and isinstance(media.get("payload"), str):
        detail["media"] = {
            **{key: value for key, value in media.items() if key != "payload"},
            "payload_bytes": len(media["payload"]) * 3 // 4,
        }
    return detail
