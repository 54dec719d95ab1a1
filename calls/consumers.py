"""The Twilio Media Streams WebSocket: Twilio's protocol only; the bridge does the rest.

Twilio sends no session and no origin, so the socket is admitted by the signed token in
`start.customParameters` (see `calls.media_tokens`), checked against the `start` message's
call SID. Anything before a valid `start` other than `connected` closes the socket.
"""

import asyncio
import json
import logging

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from agents.tools import default_registry
from calls.bridge import CallBridge
from calls.call_setup import CallNotBridgeable, call_setup_load
from calls.media_tokens import InvalidMediaToken, media_token_verify

logger = logging.getLogger(__name__)

CLOSE_PROTOCOL_ERROR = 4400
CLOSE_UNAUTHORISED = 4401
CLOSE_NOT_BRIDGEABLE = 4404
CLOSE_START_TIMEOUT = 4408
START_TIMEOUT_SECONDS = 10


def call_group_name(call_id: int) -> str:
    """The Channels group a call's consumer listens on (answering-machine verdicts, hang-ups)."""
    return f"call-{call_id}"


class MediaStreamConsumer(AsyncWebsocketConsumer):
    """One call's bidirectional media stream; also the bridge's `CarrierLeg`."""

    bridge: CallBridge | None = None
    group: str | None = None
    stream_sid: str = ""
    _start_timer: asyncio.TimerHandle | None = None

    async def dispatch(self, message):
        # Channels checks the database connections before every message it dispatches: a
        # thread hop per 20 ms audio frame, a third of this consumer's CPU. This consumer
        # reaches the database only through database_sync_to_async, which already closes
        # stale connections around each use, so the check is skipped here.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        await self.accept()
        loop = asyncio.get_running_loop()
        self._start_timer = loop.call_later(
            START_TIMEOUT_SECONDS,
            lambda: loop.create_task(self._refuse(CLOSE_START_TIMEOUT, "no start message")),
        )

    async def _refuse(self, code: int, why: str) -> None:
        if self.bridge is None:
            logger.warning("Media stream refused (%s): %s", code, why)
            await self.close(code=code)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data or "")
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
        try:
            setup = await database_sync_to_async(call_setup_load)(
                call_id=call_id, call_sid=call_sid, registry=registry, at=timezone.now()
            )
        except CallNotBridgeable as error:
            await self._refuse(CLOSE_NOT_BRIDGEABLE, str(error))
            return
        if self._start_timer is not None:
            self._start_timer.cancel()
        self.stream_sid = start.get("streamSid") or message.get("streamSid", "")
        self.group = call_group_name(call_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.bridge = CallBridge(setup, self, registry=registry)
        await self.bridge.start()

    async def disconnect(self, code):
        if self._start_timer is not None:
            self._start_timer.cancel()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.bridge is not None:
            # The carrier is gone: the model session closes at once.
            await self.bridge.finish(close_carrier=False)

    # Messages to this call's group.

    async def call_machine_detected(self, event):
        if self.bridge is not None:
            await self.bridge.on_machine_detected(event.get("answered_by", ""))

    async def call_hang_up(self, event):
        if self.bridge is not None:
            await self.bridge.on_hang_up_requested(event.get("reason", ""))

    # CarrierLeg: what the bridge sends to Twilio. Payloads are base64, which JSON never
    # escapes, so the frames are built as text rather than through json.dumps.

    async def send_media(self, payload: str) -> None:
        await self.send(
            text_data='{"event":"media","streamSid":"'
            + self.stream_sid
            + '","media":{"payload":"'
            + payload
            + '"}}'
        )

    async def send_mark(self, name: str) -> None:
        await self.send(
            text_data=json.dumps(
                {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}
            )
        )

    async def send_clear(self) -> None:
        await self.send(text_data=json.dumps({"event": "clear", "streamSid": self.stream_sid}))

    async def hang_up(self) -> None:
        # Twilio then runs the verb after <Connect>: <Hangup/>.
        await self.close()
