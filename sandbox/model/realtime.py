"""One Realtime (GA) WebSocket session: client events in, server events out.

The session hears the caller only through the audio appended to its input buffer:
server VAD cuts it into turns, `speech.recognize` finds the words, and the dialogue
policy decides the next response. Responses stream on their own task, faster than
real time, so the receive loop keeps listening and can interrupt them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from sandbox import phrases, speech
from sandbox.model.audio_formats import InputDecoder
from sandbox.model.conversation import Item, item_from_client, user_audio_item
from sandbox.model.policy import CallTool, DialoguePolicy, Say
from sandbox.model.protocol import (
    FatalProtocolError,
    ProtocolError,
    invalid_type,
    invalid_value,
    missing_parameter,
    new_id,
    server_event,
)
from sandbox.model.responses import RATE_LIMITS, ActiveResponse, ResponseStream
from sandbox.model.session import SessionConfig
from sandbox.model.usage import TokenCount, output_audio_tokens, response_usage, text_tokens
from sandbox.model.vad import ServerVad, SpeechStarted, SpeechStopped

# OpenAI needs at least this much audio to commit the input buffer by hand.
MIN_COMMIT_MS = 100
SESSION_EXPIRED_CLOSE_CODE = 1001


@dataclass(frozen=True)
class LoggedEvent:
    direction: str  # "received" or "sent"
    at: datetime
    event: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.event.get("type"))


class RealtimeSession:
    """State and event handling of one WebSocket connection."""

    def __init__(
        self,
        websocket: web.WebSocketResponse,
        *,
        model: str,
        max_duration_seconds: float,
        audio_pace: float | None,
        first_audio_delay: float = 0.0,
    ) -> None:
        self.websocket = websocket
        self.id = new_id("sess")
        self.config = SessionConfig(
            id=self.id, model=model, expires_at=int(time.time() + max_duration_seconds)
        )
        self.max_duration_seconds = max_duration_seconds
        self.audio_pace = audio_pace
        self.first_audio_delay = first_audio_delay
        self.log: list[LoggedEvent] = []
        self.items: dict[str, Item] = {}
        self.policy = DialoguePolicy()
        self.heard: list[list[str]] = []
        self.close_code: int | None = None
        self.is_closed = False
        self.received_ms = 0
        self._decoder = InputDecoder(self.config.input_format)
        self._vad = self._make_vad()
        self._buffer = bytearray()
        self._buffer_start_ms = 0
        self._speech_item_id: str | None = None
        self._idle_deadline_ms: int | None = None
        self._response: ActiveResponse | None = None
        self._already_read = TokenCount()
        self._send_lock = asyncio.Lock()

    # Inspection helpers for tests.

    def events(self, direction: str | None = None, event_type: str | None = None) -> list[dict]:
        return [
            entry.event
            for entry in list(self.log)
            if (direction is None or entry.direction == direction)
            and (event_type is None or entry.type == event_type)
        ]

    def sent_types(self) -> list[str]:
        return [entry.type for entry in list(self.log) if entry.direction == "sent"]

    # Lifecycle.

    async def run(self) -> None:
        expiry = asyncio.get_running_loop().create_task(self._expire())
        try:
            await self.send(server_event("session.created", session=self.config.to_wire()))
            async for message in self.websocket:
                if message.type == WSMsgType.TEXT:
                    await self._receive(message.data)
                elif message.type == WSMsgType.BINARY:
                    self._log("received", {"binary_bytes": len(message.data)})
                    await self.send(
                        ProtocolError("invalid_json", "Binary frames are not supported.").to_event()
                    )
        finally:
            expiry.cancel()
            if self._response is not None and self._response.task is not None:
                self._response.task.cancel()
            self.is_closed = True
            self.close_code = self.websocket.close_code

    async def close(self, code: int, message: str) -> None:
        self.close_code = code
        await self.websocket.close(code=code, message=message.encode()[:120])

    async def _expire(self) -> None:
        await asyncio.sleep(self.max_duration_seconds)
        minutes = round(self.max_duration_seconds / 60)
        message = f"Your session hit the maximum duration of {minutes} minutes."
        await self.send(
            ProtocolError("session_expired", message, error_type="invalid_request_error").to_event()
        )
        await self.close(SESSION_EXPIRED_CLOSE_CODE, message)

    def _log(self, direction: str, event: dict[str, Any]) -> None:
        self.log.append(LoggedEvent(direction, datetime.now(UTC), event))

    async def send(self, event: dict[str, Any]) -> None:
        self._log("sent", event)
        if self.websocket.closed:
            return
        async with self._send_lock:
            with contextlib.suppress(ConnectionError):
                await self.websocket.send_str(json.dumps(event))

    # Dispatch.

    async def _receive(self, raw: str) -> None:
        client_event_id = None
        try:
            try:
                event = json.loads(raw)
            except json.JSONDecodeError as error:
                self._log("received", {"unparsed": raw})
                raise ProtocolError(
                    "invalid_json", f"The server could not parse the event as JSON: {error}."
                ) from error
            self._log("received", event if isinstance(event, dict) else {"unparsed": raw})
            if not isinstance(event, dict):
                raise invalid_type("event", "a JSON object")
            client_event_id = event.get("event_id")
            event_type = event.get("type")
            if event_type is None:
                raise missing_parameter("type")
            handler = self._handlers().get(event_type)
            if handler is None:
                raise ProtocolError(
                    "invalid_value",
                    f"Invalid value: '{event_type}'. Supported values are: "
                    f"{', '.join(sorted(self._handlers()))}.",
                    param="type",
                )
            await handler(event)
        except FatalProtocolError as error:
            await self.send(error.to_event(client_event_id))
            await self.close(error.close_code, error.message)
        except ProtocolError as error:
            await self.send(error.to_event(client_event_id))

    def _handlers(self) -> dict[str, Any]:
        return {
            "session.update": self._session_update,
            "input_audio_buffer.append": self._buffer_append,
            "input_audio_buffer.commit": self._buffer_commit,
            "input_audio_buffer.clear": self._buffer_clear,
            "conversation.item.create": self._item_create,
            "conversation.item.retrieve": self._item_retrieve,
            "conversation.item.truncate": self._item_truncate,
            "conversation.item.delete": self._item_delete,
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
            "output_audio_buffer.clear": self._output_buffer_clear,
        }

    # Session.

    async def _session_update(self, event: dict[str, Any]) -> None:
        if "session" not in event:
            raise missing_parameter("session")
        previous_format = self.config.input_format
        previous_detection = self.config.turn_detection
        self.config.apply_update(event["session"])
        if self.config.input_format != previous_format:
            self._decoder = InputDecoder(self.config.input_format)
        if self.config.turn_detection != previous_detection:
            self._vad = self._make_vad()
        self.policy.configure(
            instructions=self.config.instructions, tool_names=self.config.tool_names
        )
        await self.send(server_event("session.updated", session=self.config.to_wire()))

    def _make_vad(self) -> ServerVad | None:
        detection = self.config.turn_detection
        if detection is None:
            return None
        vad = ServerVad(
            threshold=detection.get("threshold", 0.5),
            prefix_padding_ms=detection.get("prefix_padding_ms", 300),
            silence_duration_ms=self.config.vad_silence_duration_ms(),
        )
        vad.received_ms = self.received_ms
        return vad

    # Input audio.

    async def _buffer_append(self, event: dict[str, Any]) -> None:
        if "audio" not in event:
            raise missing_parameter("audio")
        if not isinstance(event["audio"], str):
            raise invalid_type("audio", "a base64-encoded string")
        try:
            audio = base64.b64decode(event["audio"], validate=True)
        except binascii.Error as error:
            raise invalid_value("audio", "expected base64-encoded audio bytes.") from error
        if self.config.input_format["type"] == "audio/pcm" and len(audio) % 2:
            raise invalid_value("audio", "16-bit PCM audio must have an even number of bytes.")
        ulaw = self._decoder.decode(audio)
        self._buffer += ulaw
        self.received_ms += speech.duration_ms(ulaw)
        if self._vad is None:
            return
        for boundary in self._vad.feed(ulaw):
            if isinstance(boundary, SpeechStarted):
                await self._speech_started(boundary)
            else:
                await self._speech_stopped(boundary)
        await self._check_idle()

    async def _speech_started(self, boundary: SpeechStarted) -> None:
        self._speech_item_id = new_id("item")
        self._idle_deadline_ms = None
        await self.send(
            server_event(
                "input_audio_buffer.speech_started",
                audio_start_ms=boundary.audio_start_ms,
                item_id=self._speech_item_id,
            )
        )
        detection = self.config.turn_detection or {}
        if self._response is not None and detection.get("interrupt_response", True):
            await self._cancel_response("turn_detected")

    async def _speech_stopped(self, boundary: SpeechStopped) -> None:
        item_id = self._speech_item_id or new_id("item")
        self._speech_item_id = None
        await self.send(
            server_event(
                "input_audio_buffer.speech_stopped",
                audio_end_ms=boundary.audio_end_ms,
                item_id=item_id,
            )
        )
        segment = self._take_buffer(boundary.audio_start_ms, boundary.audio_end_ms)
        await self._commit(item_id, segment)
        detection = self.config.turn_detection or {}
        if detection.get("create_response", True) and self._response is None:
            await self._start_response(self.policy.next_actions())

    def _take_buffer(self, start_ms: int, end_ms: int) -> bytes:
        """Audio between two session times; everything before `end_ms` leaves the buffer."""
        start = max(0, (start_ms - self._buffer_start_ms) * speech.BYTES_PER_MS)
        end = max(0, (end_ms - self._buffer_start_ms) * speech.BYTES_PER_MS)
        segment = bytes(self._buffer[start:end])
        del self._buffer[:end]
        self._buffer_start_ms = max(self._buffer_start_ms, end_ms)
        return segment

    async def _commit(self, item_id: str, audio: bytes) -> None:
        previous_item_id = next(reversed(self.items), None)
        await self.send(
            server_event(
                "input_audio_buffer.committed", item_id=item_id, previous_item_id=previous_item_id
            )
        )
        item = user_audio_item(item_id, speech.duration_ms(audio))
        await self._add_item(item, previous_item_id)
        vocabulary = (*phrases.CALLER_VOCABULARY, *self.policy.listening_vocabulary())
        recognised = await asyncio.to_thread(speech.recognize, audio, vocabulary)
        words = [word for word, _ in recognised]
        self.heard.append(words)
        self.policy.hear(words)
        transcript = " ".join(words)
        item.content = [{"type": "input_audio", "transcript": transcript}]
        if self.config.is_transcribing:
            await self.send(
                server_event(
                    "conversation.item.input_audio_transcription.completed",
                    item_id=item_id,
                    content_index=0,
                    transcript=transcript,
                    usage={"type": "duration", "seconds": round(item.audio_ms / 1000, 3)},
                )
            )

    async def _buffer_commit(self, event: dict[str, Any]) -> None:
        if speech.duration_ms(bytes(self._buffer)) < MIN_COMMIT_MS:
            raise ProtocolError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio.",
            )
        if self._vad is not None:
            self._vad.reset()
        segment = self._take_buffer(self._buffer_start_ms, self.received_ms)
        await self._commit(new_id("item"), segment)

    async def _buffer_clear(self, event: dict[str, Any]) -> None:
        self._buffer.clear()
        self._buffer_start_ms = self.received_ms
        if self._vad is not None:
            self._vad.reset()
        await self.send(server_event("input_audio_buffer.cleared"))

    async def _check_idle(self) -> None:
        """Prompt a silent caller once `idle_timeout_ms` of received audio passes."""
        deadline = self._idle_deadline_ms
        if (
            deadline is None
            or self.received_ms < deadline
            or self._response is not None
            or (self._vad is not None and self._vad.is_in_speech)
        ):
            return
        self._idle_deadline_ms = None
        idle_ms = (self.config.turn_detection or {}).get("idle_timeout_ms") or 0
        item_id = new_id("item")
        await self.send(
            server_event(
                "input_audio_buffer.timeout_triggered",
                audio_start_ms=deadline - idle_ms,
                audio_end_ms=self.received_ms,
                item_id=item_id,
            )
        )
        segment = self._take_buffer(deadline - idle_ms, self.received_ms)
        previous_item_id = next(reversed(self.items), None)
        await self.send(
            server_event(
                "input_audio_buffer.committed", item_id=item_id, previous_item_id=previous_item_id
            )
        )
        await self._add_item(
            user_audio_item(item_id, speech.duration_ms(segment)), previous_item_id
        )
        self.policy.idle()
        await self._start_response(self.policy.next_actions())

    # Conversation items.

    async def _add_item(self, item: Item, previous_item_id: str | None = None) -> None:
        self.items[item.id] = item
        wire = item.to_wire()
        await self.send(
            server_event("conversation.item.added", item=wire, previous_item_id=previous_item_id)
        )
        if item.status == "completed":
            await self.send(
                server_event("conversation.item.done", item=wire, previous_item_id=previous_item_id)
            )

    def _item(self, event: dict[str, Any]) -> Item:
        if "item_id" not in event:
            raise missing_parameter("item_id")
        item = self.items.get(event["item_id"])
        if item is None:
            raise ProtocolError(
                "item_not_found",
                f"Conversation item '{event['item_id']}' does not exist.",
                param="item_id",
            )
        return item

    async def _item_create(self, event: dict[str, Any]) -> None:
        if "item" not in event:
            raise missing_parameter("item")
        item = item_from_client(event["item"])
        if item.id in self.items:
            raise invalid_value("item.id", f"an item with id '{item.id}' already exists.")
        previous_item_id = event.get("previous_item_id") or next(reversed(self.items), None)
        if item.type == "message" and item.role == "user" and item.text:
            self.policy.hear(speech.normalize_words(item.text))
        elif item.type == "message" and item.role == "assistant" and item.text:
            self.policy.recall(item.text)
        await self._add_item(item, previous_item_id)

    async def _item_retrieve(self, event: dict[str, Any]) -> None:
        item = self._item(event)
        await self.send(server_event("conversation.item.retrieved", item=item.to_wire()))

    async def _item_delete(self, event: dict[str, Any]) -> None:
        item = self._item(event)
        del self.items[item.id]
        await self.send(server_event("conversation.item.deleted", item_id=item.id))

    async def _item_truncate(self, event: dict[str, Any]) -> None:
        item = self._item(event)
        for key in ("content_index", "audio_end_ms"):
            if key not in event:
                raise missing_parameter(key)
        if event["content_index"] != 0:
            raise invalid_value("content_index", "only content index 0 holds audio.")
        audio_end_ms = event["audio_end_ms"]
        if not isinstance(audio_end_ms, int) or audio_end_ms < 0:
            raise invalid_value("audio_end_ms", "expected a non-negative integer.")
        if item.type != "message" or item.role != "assistant":
            raise invalid_value("item_id", "only assistant messages can be truncated.")
        if audio_end_ms > item.audio_ms:
            raise ProtocolError(
                "invalid_value",
                f"Audio content of {item.audio_ms}ms is already shorter than {audio_end_ms}ms",
                param="audio_end_ms",
            )
        item.audio_ms = audio_end_ms
        # OpenAI drops the transcript rather than guess which words were heard.
        item.content = [{"type": "output_audio", "transcript": ""}]
        await self.send(
            server_event(
                "conversation.item.truncated",
                item_id=item.id,
                content_index=0,
                audio_end_ms=audio_end_ms,
            )
        )

    async def _output_buffer_clear(self, event: dict[str, Any]) -> None:
        raise ProtocolError(
            "invalid_request_error",
            "output_audio_buffer.clear is only supported for WebRTC and SIP sessions.",
        )

    # Responses.

    async def _response_create(self, event: dict[str, Any]) -> None:
        if self._response is not None:
            raise ProtocolError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self._response.id}. "
                "Wait until the response is finished before creating a new one.",
            )
        options = event.get("response") or {}
        if not isinstance(options, dict):
            raise invalid_type("response", "an object")
        modalities = options.get("output_modalities", self.config.output_modalities)
        if modalities not in (["audio"], ["text"]):
            raise invalid_value("response.output_modalities", "expected ['audio'] or ['text'].")
        actions = self.policy.next_actions(options.get("instructions"))
        await self._start_response(actions, modalities=modalities)

    async def _response_cancel(self, event: dict[str, Any]) -> None:
        response = self._response
        if response is None:
            raise ProtocolError(
                "response_cancel_not_active", "Cancellation failed: no active response found."
            )
        wanted = event.get("response_id")
        if wanted and wanted != response.id:
            raise ProtocolError(
                "response_cancel_not_active",
                f"Cancellation failed: response '{wanted}' is not active.",
                param="response_id",
            )
        await self._cancel_response("client_cancelled")

    async def _cancel_response(self, reason: str) -> None:
        response = self._response
        if response is None or response.task is None:
            return
        response.cancel_reason = reason
        response.cancelled.set()
        await asyncio.shield(response.task)

    def _conversation_tokens(self) -> TokenCount:
        total = TokenCount(text=text_tokens(self.config.instructions))
        total += TokenCount(text=text_tokens(json.dumps(self.config.tools)))
        for item in self.items.values():
            total += item.tokens()
        return total

    async def _start_response(
        self, actions: list[Say | CallTool], *, modalities: list[str] | None = None
    ) -> None:
        response = ActiveResponse(
            id=new_id("resp"),
            output_modalities=list(modalities or self.config.output_modalities),
            conversation=self._conversation_tokens(),
        )
        self._response = response
        await self.send(server_event("response.created", response=response.wire("in_progress")))
        await self.send(server_event("rate_limits.updated", rate_limits=RATE_LIMITS))
        response.task = asyncio.get_running_loop().create_task(self._stream(response, actions))

    async def _stream(self, response: ActiveResponse, actions: list[Say | CallTool]) -> None:
        failure = None
        stream = ResponseStream(self, response)
        try:
            for action in actions:
                if response.cancel_reason:
                    break
                if isinstance(action, Say):
                    await stream.say(action.text)
                else:
                    await stream.call_tool(action)
        except speech.SpeechEngineError as error:
            failure = {"type": "server_error", "code": "speech_engine_error", "message": str(error)}
        status = "cancelled" if response.cancel_reason else "completed"
        if failure is not None:
            status = "failed"
        output = TokenCount(
            text=text_tokens(response.output_text),
            audio=output_audio_tokens(response.output_audio_ms),
        )
        usage = response_usage(
            conversation=response.conversation, already_read=self._already_read, output=output
        )
        self._already_read = response.conversation + output
        self._response = None
        idle_ms = (self.config.turn_detection or {}).get("idle_timeout_ms")
        if idle_ms:
            # The caller hears the audio only after it is generated: wait for its playback.
            self._idle_deadline_ms = self.received_ms + response.output_audio_ms + idle_ms
        done = response.wire(status, usage)
        if failure is not None:
            done["status_details"] = {"type": "failed", "error": failure}
        await self.send(server_event("response.done", response=done))
