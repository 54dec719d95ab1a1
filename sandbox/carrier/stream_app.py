"""A minimal Media Streams application for tests: an answer URL and a scripted WebSocket.

The answer URL returns `<Connect><Stream url="ws://…/media"><Parameter name="token" …/>
</Stream></Connect>` followed by `after_stream` TwiML (`<Hangup/>` by default). The socket
handler reads `connected` and `start`, then runs the test's `script(stream)` coroutine with a
`ScriptedStream` to send audio, marks and `clear` and to wait for what the carrier sends.
When the script returns, the app closes the socket. It runs on the caller's event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any, Self

import aiohttp
from aiohttp import web

from sandbox.carrier.playback import FRAME_BYTES

# Every wait gives up after this long, so a broken carrier fails a test instead of hanging it.
WAIT_LIMIT_SECONDS = 30


class ScriptedStream:
    """The app's view of one stream: what arrived so far and how to answer."""

    def __init__(self, ws: web.WebSocketResponse, connected: dict[str, Any], start: dict[str, Any]):
        self.ws = ws
        self.connected = connected
        self.start = start
        self.stream_sid: str = start["streamSid"]
        self.messages: list[dict[str, Any]] = [connected, start]
        self.caller_audio = bytearray()  # every inbound media payload, in order
        self.is_closed_by_carrier = False
        self._arrived = asyncio.Event()

    async def send_audio(self, audio: bytes, chunk_bytes: int = 8 * FRAME_BYTES) -> None:
        for offset in range(0, len(audio), chunk_bytes):
            payload = base64.b64encode(audio[offset : offset + chunk_bytes]).decode()
            await self.send({"event": "media", "media": {"payload": payload}})

    async def send_mark(self, name: str) -> None:
        await self.send({"event": "mark", "mark": {"name": name}})

    async def clear(self) -> None:
        await self.send({"event": "clear"})

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps({**message, "streamSid": self.stream_sid}))

    def events(self, event: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message.get("event") == event]

    async def wait_for(self, predicate: Callable[[ScriptedStream], bool]) -> None:
        """Wait until `predicate(self)` holds (checked whenever a message arrives)."""
        async with asyncio.timeout(WAIT_LIMIT_SECONDS):
            while not predicate(self):
                if self.is_closed_by_carrier:
                    raise ConnectionError("the carrier closed the stream")
                self._arrived.clear()
                await self._arrived.wait()

    async def wait_until_closed(self) -> None:
        """Wait until the carrier has closed the socket (after `stop`)."""
        async with asyncio.timeout(WAIT_LIMIT_SECONDS):
            while not self.is_closed_by_carrier:
                self._arrived.clear()
                await self._arrived.wait()

    async def wait_for_event(self, event: str, count: int = 1) -> None:
        await self.wait_for(lambda stream: len(stream.events(event)) >= count)

    async def wait_for_mark(self, name: str) -> None:
        await self.wait_for(
            lambda stream: any(m["mark"]["name"] == name for m in stream.events("mark"))
        )

    async def wait_for_frames(self, count: int) -> None:
        """Wait until `count` more inbound media frames have arrived."""
        target = len(self.events("media")) + count
        await self.wait_for_event("media", target)

    def _receive(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message.get("event") == "media":
            self.caller_audio.extend(base64.b64decode(message["media"]["payload"]))
        self._arrived.set()

    async def read_until_closed(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self._receive(json.loads(message.data))
        self.is_closed_by_carrier = True
        self._arrived.set()


Script = Callable[[ScriptedStream], Awaitable[None]]


class StreamApp:
    def __init__(
        self, script: Script, *, token: str = "secret-token", after_stream: str = "<Hangup/>"
    ):
        self.script = script
        self.token = token
        self.after_stream = after_stream
        self.streams: list[ScriptedStream] = []
        self.answer_requests: list[dict[str, str]] = []
        self.upgrade_headers: list[dict[str, str]] = []
        self.script_errors: list[BaseException] = []
        self._stream_opened = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @property
    def answer_url(self) -> str:
        return f"{self.base_url}/answer"

    @property
    def stream_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/media"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/answer", self._answer)
        app.router.add_get("/media", self._media)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def first_stream(self) -> ScriptedStream:
        """The first stream the carrier opened, once it has sent `start`."""
        async with asyncio.timeout(WAIT_LIMIT_SECONDS):
            await self._stream_opened.wait()
        return self.streams[0]

    async def _answer(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.answer_requests.append({key: str(value) for key, value in form.items()})
        twiml = (
            f'<Response><Connect><Stream url="{self.stream_url}">'
            f'<Parameter name="token" value="{self.token}"/></Stream></Connect>'
            f"{self.after_stream}</Response>"
        )
        return web.Response(text=twiml, content_type="text/xml")

    async def _media(self, request: web.Request) -> web.WebSocketResponse:
        self.upgrade_headers.append(dict(request.headers))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connected = json.loads((await ws.receive()).data)
        start = json.loads((await ws.receive()).data)
        stream = ScriptedStream(ws, connected, start)
        self.streams.append(stream)
        self._stream_opened.set()
        reader = asyncio.create_task(stream.read_until_closed())
        try:
            await self.script(stream)
        except Exception as error:
            self.script_errors.append(error)
        finally:
            await ws.close()
            await reader
        return ws
