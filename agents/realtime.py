"""OpenAI Realtime (GA protocol) over WebSocket: the only module that speaks it.

Plain `websockets` and `json` rather than the SDK's typed client: a media bridge relays
about fifty audio deltas a second per call, and typed parsing of each one costs more than
the relay itself. Audio is μ-law in both directions, so base64 strings pass through as is.
"""

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from agents.audio_frames import TextFrameWriter

logger = logging.getLogger(__name__)

OPEN_TIMEOUT_SECONDS = 5
CLOSE_TIMEOUT_SECONDS = 2
# Deltas are small; this only bounds what a misbehaving server can make us buffer.
MAX_EVENT_BYTES = 16 * 1024 * 1024
TRANSCRIPTION_MODEL = "gpt-realtime-whisper"
# Close codes after which a new session is worth trying (the SDK's recoverable set).
RECOVERABLE_CLOSE_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})
# Error codes that no retry can fix: configuration or billing.
FATAL_ERROR_CODES = frozenset(
    {"invalid_api_key", "model_not_found", "insufficient_quota", "beta_api_shape_disabled"}
)


# Audio deltas, about fifty a second per call, are recognised by their start and their few
# fields cut out of the text; every other event is parsed in full.
AUDIO_DELTA_TYPE = "response.output_audio.delta"
AUDIO_DELTA_PREFIX = '{"type":"' + AUDIO_DELTA_TYPE + '"'


def _string_field(text: str, name: str) -> str | None:
    """The value of the first `"name":"…"` in `text`, if it holds no escapes."""
    key = '"' + name + '":"'
    start = text.find(key)
    if start < 0:
        return None
    start += len(key)
    end = text.find('"', start)
    if end < 0:
        return None
    value = text[start:end]
    return None if "\\" in value else value


def audio_delta_event(text: str) -> dict | None:
    """An audio delta event from its text without a JSON parse; None when `text` is not
    one in the compact layout the API sends (it is then parsed in full)."""
    if not text.startswith(AUDIO_DELTA_PREFIX):
        return None
    delta = _string_field(text, "delta")
    item_id = _string_field(text, "item_id")
    response_id = _string_field(text, "response_id")
    if delta is None or item_id is None or response_id is None:
        return None
    return {
        "type": AUDIO_DELTA_TYPE,
        "response_id": response_id,
        "item_id": item_id,
        "delta": delta,
    }


class RealtimeUnavailable(Exception):
    """The model could not be reached or the session ended; `is_permanent` if retrying is futile."""

    def __init__(self, message: str, *, is_permanent: bool = False, close_code: int | None = None):
        self.is_permanent = is_permanent
        self.close_code = close_code
        super().__init__(message)


@dataclass(frozen=True)
class SessionSettings:
    """What a session is configured with; sent whole on connect and again after a reconnect."""

    instructions: str
    voice: str
    turn_detection: dict
    tools: list[dict]
    language: str = "en"

    def to_wire(self) -> dict:
        return {
            "type": "realtime",
            "output_modalities": ["audio"],
            "instructions": self.instructions,
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": TRANSCRIPTION_MODEL, "language": self.language},
                    "turn_detection": self.turn_detection,
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": self.voice},
            },
            "tools": self.tools,
            "tool_choice": "auto",
        }


@dataclass(frozen=True)
class HistoryEntry:
    """One utterance of the conversation so far, re-sent as text to a new session."""

    role: str  # "user" or "assistant"
    text: str

    def to_item(self) -> dict:
        part_type = "input_text" if self.role == "user" else "output_text"
        return {
            "type": "message",
            "role": self.role,
            "content": [{"type": part_type, "text": self.text}],
        }


def realtime_url(*, base_url: str, model: str) -> str:
    """`https://api.openai.com/v1` → `wss://api.openai.com/v1/realtime?model=…`."""
    parts = urlsplit(base_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/") + "/realtime"
    return urlunsplit((scheme, parts.netloc, path, f"model={quote(model)}", ""))


class RealtimeSession:
    """One open Realtime WebSocket: typed sends, raw dict events."""

    def __init__(self, websocket: ClientConnection):
        self._websocket = websocket
        self._audio_frames = TextFrameWriter(websocket)

    @classmethod
    async def open(cls, *, base_url: str, api_key: str, model: str) -> "RealtimeSession":
        """Connect (no beta header: the GA protocol is the only one served). Raises
        RealtimeUnavailable, permanent for a refused key or model."""
        url = realtime_url(base_url=base_url, model=model)
        try:
            websocket = await connect(
                url,
                additional_headers={"Authorization": f"Bearer {api_key}"},
                open_timeout=OPEN_TIMEOUT_SECONDS,
                close_timeout=CLOSE_TIMEOUT_SECONDS,
                max_size=MAX_EVENT_BYTES,
                compression=None,
                user_agent_header="voiceops",
            )
        except InvalidStatus as error:
            status = error.response.status_code
            permanent = status in (400, 401, 403, 404)
            raise RealtimeUnavailable(
                f"the model refused the connection with HTTP {status}", is_permanent=permanent
            ) from error
        except (OSError, TimeoutError, InvalidHandshake) as error:
            raise RealtimeUnavailable(f"the model could not be reached: {error!r}") from error
        return cls(websocket)

    async def _send(self, event: dict) -> None:
        await self._send_raw(json.dumps(event))

    async def _send_raw(self, text: str) -> None:
        try:
            await self._websocket.send(text)
        except ConnectionClosed as error:
            raise RealtimeUnavailable(
                "the model session closed", close_code=_close_code(error)
            ) from error

    async def configure(self, settings: SessionSettings) -> None:
        await self._send({"type": "session.update", "session": settings.to_wire()})

    async def append_audio(self, payload: str) -> None:
        # Base64 has no characters JSON must escape; skipping json.dumps matters at 50 Hz,
        # and so does skipping `Connection.send` while the socket is open (audio_frames).
        text = '{"type":"input_audio_buffer.append","audio":"' + payload + '"}'
        if not self._audio_frames.try_write(text):
            await self._send_raw(text)

    async def create_response(self, *, instructions: str | None = None) -> None:
        event: dict = {"type": "response.create"}
        if instructions is not None:
            event["response"] = {"instructions": instructions}
        await self._send(event)

    async def cancel_response(self) -> None:
        await self._send({"type": "response.cancel"})

    async def truncate(self, *, item_id: str, audio_end_ms: int) -> None:
        await self._send(
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            }
        )

    async def send_function_output(self, *, call_id: str, output: dict) -> None:
        item = {"type": "function_call_output", "call_id": call_id, "output": json.dumps(output)}
        await self._send({"type": "conversation.item.create", "item": item})

    async def restore(self, history: list[HistoryEntry]) -> None:
        """Re-seed a fresh session with the conversation so far (sessions keep no state)."""
        for entry in history:
            await self._send({"type": "conversation.item.create", "item": entry.to_item()})

    async def events(self) -> AsyncIterator[dict]:
        """Server events until the socket closes; then RealtimeUnavailable (with the code)."""
        try:
            async for message in self._websocket:
                if isinstance(message, str):
                    yield audio_delta_event(message) or json.loads(message)
        except ConnectionClosed as error:
            raise RealtimeUnavailable(
                "the model session closed", close_code=_close_code(error)
            ) from error
        code = self._websocket.close_code
        raise RealtimeUnavailable(f"the model session closed ({code})", close_code=code)

    async def close(self) -> None:
        await self._websocket.close()


def _close_code(error: ConnectionClosed) -> int | None:
    return error.rcvd.code if error.rcvd is not None else None
