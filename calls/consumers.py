"""The Twilio Media Streams WebSocket: Twilio's protocol only; the bridge does the rest.

The socket is admitted in two steps. The upgrade request must carry Twilio's
`X-Twilio-Signature`, computed over the stream URL we handed out (no parameters); Twilio
sends no session and no origin. Then the signed per-call token in
`start.customParameters` (see `calls.media_tokens`) must name the `start` message's call
SID and be the first for its call: it is consumed then, and a second socket for the call
is closed with 4409 before anything else happens. Anything before a valid `start` other
than `connected` closes the socket.

This is a plain ASGI application, still routed by Channels' `URLRouter`, rather than a
Channels consumer: a call relays about a hundred messages a second, and Channels'
per-message dispatch (a wait on the socket and the channel layer for each) cost more than
the relay. The socket's messages are read in one loop; the call's group (hang-up
requests, answering-machine verdicts) is read by a separate task, only once the call is
bridged. Media frames are recognised by their prefix and their payload cut out without a
JSON parse; every other message is parsed in full.
"""

import asyncio
import json
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from agents.tools import default_registry
from calls.bridge import CallBridge
from calls.call_setup import CallNotBridgeable, call_setup_load
from calls.media_tokens import (
    InvalidMediaToken,
    MediaStreamTaken,
    media_token_consume,
    media_token_verify,
)
from calls.public_urls import media_stream_url
from calls.telephony import twilio

logger = logging.getLogger(__name__)

CLOSE_PROTOCOL_ERROR = 4400
CLOSE_UNAUTHORISED = 4401
CLOSE_UNSIGNED = 4403
CLOSE_NOT_BRIDGEABLE = 4404
CLOSE_START_TIMEOUT = 4408
CLOSE_ALREADY_BRIDGED = 4409
START_TIMEOUT_SECONDS = 10

# Twilio's media frames begin so; the payload is base64, which JSON never escapes.
MEDIA_PREFIX = '{"event":"media"'
PAYLOAD_KEY = '"payload":"'
TRACK_KEY = '"track":"'


def call_group_name(call_id: int) -> str:
    """The Channels group a call's consumer listens on (answering-machine verdicts, hang-ups)."""
    return f"call-{call_id}"


def media_payload(text: str) -> str | None:
    """The inbound payload of a Twilio `media` frame, cut out of the text; None when the
    frame is not one in the usual layout (the caller then parses it in full)."""
    if not text.startswith(MEDIA_PREFIX):
        return None
    start = text.find(PAYLOAD_KEY)
    if start < 0:
        return None
    start += len(PAYLOAD_KEY)
    end = text.find('"', start)
    if end < 0:
        return None
    payload = text[start:end]
    if "\\" in payload:
        return None
    track = text.find(TRACK_KEY)
    if track >= 0 and not text.startswith("inbound", track + len(TRACK_KEY)):
        return ""
    return payload


def upgrade_is_signed(scope: dict) -> bool:
    """Twilio signs the upgrade over the stream URL it was given, without parameters."""
    signature = ""
    for name, value in scope.get("headers", ()):
        if name == b"x-twilio-signature":
            signature = value.decode("latin-1")
            break
    return twilio.signature_is_valid(url=media_stream_url(), params={}, signature=signature)


class MediaStreamConsumer:
    """One call's bidirectional media stream; also the bridge's `CarrierLeg`."""

    def __init__(self, scope, receive, send):
        self.scope = scope
        self._receive = receive
        self._send = send
        self.bridge: CallBridge | None = None
        self.stream_sid = ""
        self.is_closed = False
        self._group: str | None = None
        self._channel: str | None = None
        self._group_task: asyncio.Task | None = None

    @classmethod
    def as_asgi(cls):
        async def application(scope, receive, send):
            await cls(scope, receive, send).run()

        return application

    async def run(self) -> None:
        message = await self._receive()
        if message["type"] != "websocket.connect":
            return
        if not upgrade_is_signed(self.scope):
            logger.warning("Media stream refused: the upgrade is not signed by Twilio")
            await self._send({"type": "websocket.close", "code": CLOSE_UNSIGNED})
            return
        await self._send({"type": "websocket.accept"})
        loop = asyncio.get_running_loop()
        start_timer = loop.call_later(
            START_TIMEOUT_SECONDS,
            lambda: loop.create_task(self._refuse(CLOSE_START_TIMEOUT, "no start message")),
        )
        try:
            await self._receive_loop()
        finally:
            start_timer.cancel()
            await self._disconnected()

    async def _receive_loop(self) -> None:
        receive = self._receive
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                self.is_closed = True
                return
            if kind != "websocket.receive":
                continue
            text = message.get("text")
            bridge = self.bridge
            if text is not None and bridge is not None:
                payload = media_payload(text)
                if payload is not None:
                    if payload:
                        await bridge.on_media(payload)
                    continue
            await self._on_message(text)

    async def _refuse(self, code: int, why: str) -> None:
        if self.bridge is None:
            logger.warning("Media stream refused (%s): %s", code, why)
            await self.close(code=code)

    async def _on_message(self, text: str | None) -> None:
        try:
            message = json.loads(text or "")
        except json.JSONDecodeError:
            message = None
        if not isinstance(message, dict):
            await self._refuse(CLOSE_PROTOCOL_ERROR, "a frame that is not a JSON object")
            return
        event = message.get("event")
        if event == "connected":
            return
        if event == "start" and self.bridge is None:
            await self._start(message)
            return
        if self.bridge is None:
            await self._refuse(CLOSE_PROTOCOL_ERROR, f"{event!r} before a valid start")
            return
        if event == "media":
            media = message.get("media") or {}
            if media.get("track", "inbound") == "inbound" and media.get("payload"):
                await self.bridge.on_media(media["payload"])
        elif event == "mark":
            await self.bridge.on_mark((message.get("mark") or {}).get("name", ""))
        elif event == "dtmf":
            await self.bridge.on_dtmf((message.get("dtmf") or {}).get("digit", ""))
        elif event == "stop":
            await self.bridge.on_stop()
            await self.close()

    async def _start(self, message: dict) -> None:
        start = message.get("start") or {}
        call_sid = start.get("callSid", "")
        token = (start.get("customParameters") or {}).get("token", "")
        try:
            call_id = media_token_verify(token, call_sid=call_sid)
        except InvalidMediaToken as error:
            await self._refuse(CLOSE_UNAUTHORISED, f"call {call_sid!r}: {error}")
            return
        registry = default_registry()
        at = timezone.now()
        try:
            setup = await database_sync_to_async(call_setup_load)(
                call_id=call_id, call_sid=call_sid, registry=registry, at=at
            )
            await database_sync_to_async(media_token_consume)(call_id=call_id, at=at)
        except CallNotBridgeable as error:
            await self._refuse(CLOSE_NOT_BRIDGEABLE, str(error))
            return
        except MediaStreamTaken as error:
            await self._refuse(CLOSE_ALREADY_BRIDGED, str(error))
            return
        if self.is_closed:
            return
        # Echoed into every frame we build as text: escaped once here.
        stream_sid = str(start.get("streamSid") or message.get("streamSid", ""))
        self.stream_sid = json.dumps(stream_sid)[1:-1]
        self.bridge = CallBridge(setup, self, registry=registry)
        await self._join_group(call_group_name(call_id))
        await self.bridge.start()

    # The call's group: read by its own task, so the socket's loop never waits on it.

    async def _join_group(self, group: str) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        self._channel = await layer.new_channel()
        await layer.group_add(group, self._channel)
        self._group = group
        self._group_task = asyncio.get_running_loop().create_task(self._read_group(layer))

    async def _read_group(self, layer) -> None:
        while True:
            event = await layer.receive(self._channel)
            bridge = self.bridge
            if bridge is None:
                continue
            kind = event.get("type")
            if kind == "call.machine_detected":
                await bridge.on_machine_detected(event.get("answered_by", ""))
            elif kind == "call.hang_up":
                await bridge.on_hang_up_requested(event.get("reason", ""))

    async def _disconnected(self) -> None:
        self.is_closed = True
        if self._group_task is not None:
            self._group_task.cancel()
        if self._group is not None:
            await get_channel_layer().group_discard(self._group, self._channel)
        if self.bridge is not None:
            # The carrier is gone: the model session closes at once.
            await self.bridge.finish(close_carrier=False)

    # CarrierLeg: what the bridge sends to Twilio. Payloads are base64 and mark names are
    # our own item ids, neither of which JSON escapes, so frames are built as text.

    async def _send_text(self, text: str) -> None:
        if not self.is_closed:
            await self._send({"type": "websocket.send", "text": text})

    async def send_media(self, payload: str) -> None:
        await self._send_text(
            '{"event":"media","streamSid":"'
            + self.stream_sid
            + '","media":{"payload":"'
            + payload
            + '"}}'
        )

    async def send_mark(self, name: str) -> None:
        await self._send_text(
            '{"event":"mark","streamSid":"'
            + self.stream_sid
            + '","mark":{"name":'
            + json.dumps(name)
            + "}}"
        )

    async def send_clear(self) -> None:
        await self._send_text('{"event":"clear","streamSid":"' + self.stream_sid + '"}')

    async def close(self, code: int = 1000) -> None:
        if not self.is_closed:
            self.is_closed = True
            await self._send({"type": "websocket.close", "code": code})

    async def hang_up(self) -> None:
        # Twilio then runs the verb after <Connect>: <Hangup/>.
        await self.close()
