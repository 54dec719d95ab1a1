"""The sandbox OpenAI server: Realtime WebSocket at `/v1/realtime`, text analysis endpoints.

The `openai` SDK builds its Realtime URL as base URL + `/realtime` (http becomes ws), so
with `OPENAI_BASE_URL=http://127.0.0.1:PORT/v1` it connects to
`ws://127.0.0.1:PORT/v1/realtime?model=…`; `POST /v1/chat/completions` and
`POST /v1/responses` serve post-call analysis.

Tests make the text endpoints misbehave with `fail_analysis(*faults)`: each of the next
requests gets one fault, in order: "rate_limited" (429 with Retry-After),
"server_error" (500), "slow" (answers after `SLOW_SECONDS`, past a client's timeout),
"refusal" (the model declines, in the API's refusal shape), "invalid_output" (JSON
missing a required property) or "not_json".
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from typing import Any

from aiohttp import web

from sandbox.model.analysis import message_text, structured_output, to_json
from sandbox.model.protocol import BETA_API_SHAPE_DISABLED, new_id
from sandbox.model.realtime import RealtimeSession
from sandbox.model.session import DEFAULT_MODEL
from sandbox.model.usage import text_tokens
from sandbox.threaded import ThreadedServer

DEFAULT_API_KEY = "sk-sandbox"
DEFAULT_MAX_SESSION_SECONDS = 60 * 60
# Model audio is generated this many times faster than it plays, as OpenAI's is.
DEFAULT_AUDIO_PACE = 4.0
_MAX_EVENT_BYTES = 16 * 1024 * 1024


ANALYSIS_FAULTS = (
    "rate_limited", "server_error", "slow", "refusal", "invalid_output", "not_json",
)  # fmt: skip
SLOW_SECONDS = 3.0
REFUSAL = "I'm sorry, but I can't help with that request."


def _api_error(
    status: int,
    code: str | None,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _fault_response(fault: str | None) -> web.Response | None:
    if fault == "rate_limited":
        return _api_error(
            429,
            "rate_limit_exceeded",
            "Rate limit reached for requests. Please try again in 1s.",
            error_type="requests",
            headers={"Retry-After": "1"},
        )
    if fault == "server_error":
        return _api_error(
            500,
            None,
            "The server had an error while processing your request. Sorry about that!",
            error_type="server_error",
        )
    return None


def _faulty_content(fault: str | None, content: dict[str, Any]) -> str:
    """The answer's text, spoilt as `fault` asks (a refusal has none)."""
    if fault == "invalid_output" and content:
        content = dict(list(content.items())[1:])
    if fault == "not_json":
        return "Here is the analysis you asked for: " + to_json(content)
    return to_json(content)


class ModelServer(ThreadedServer):
    """OpenAI stand-in. `sessions` holds every Realtime session (with its event log);
    `analysis_requests` every text request body, for tests to inspect.
    `first_audio_delay` (seconds, changeable while running): how long each response takes
    to its first audio, for a slow model; sessions opened afterwards use the new value."""

    thread_name = "sandbox-model"

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        max_session_seconds: float = DEFAULT_MAX_SESSION_SECONDS,
        audio_pace: float | None = DEFAULT_AUDIO_PACE,
        first_audio_delay: float = 0.0,
    ) -> None:
        super().__init__()
        self.first_audio_delay = first_audio_delay
        self.api_key = api_key
        self.max_session_seconds = max_session_seconds
        self.audio_pace = audio_pace
        self.sessions: list[RealtimeSession] = []
        self.analysis_requests: list[dict[str, Any]] = []
        self._analysis_faults: deque[str] = deque()
        self._faults_lock = threading.Lock()

    def fail_analysis(self, *faults: str) -> None:
        """The next text requests fail, one fault each, in order (see the module's doc)."""
        unknown = set(faults) - set(ANALYSIS_FAULTS)
        if unknown:
            raise ValueError(
                f"Unknown analysis faults {sorted(unknown)}; one of {ANALYSIS_FAULTS}."
            )
        with self._faults_lock:
            self._analysis_faults.extend(faults)

    def _next_fault(self) -> str | None:
        with self._faults_lock:
            return self._analysis_faults.popleft() if self._analysis_faults else None

    @property
    def openai_base_url(self) -> str:
        """What `OPENAI_BASE_URL` should be to point VoiceOps (or the SDK) here."""
        return f"{self.base_url}/v1"

    def session(self, session_id: str) -> RealtimeSession:
        return next(session for session in self.sessions if session.id == session_id)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_EVENT_BYTES)
        app.router.add_get("/v1/realtime", self._realtime)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_post("/v1/responses", self._responses)
        app.on_shutdown.append(self._close_sessions)
        return app

    def _is_authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"Bearer {self.api_key}"

    @staticmethod
    def _unauthorised() -> web.Response:
        return _api_error(
            401,
            "invalid_api_key",
            "Incorrect API key provided. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
        )

    async def _close_sessions(self, app: web.Application) -> None:
        for session in self.sessions:
            if not session.websocket.closed:
                await session.close(1001, "Server shutting down.")

    async def _realtime(self, request: web.Request) -> web.StreamResponse:
        if not self._is_authorised(request):
            return self._unauthorised()
        if "call_id" in request.query:
            return _api_error(400, "unsupported", "Sideband connections (call_id) are not served.")
        websocket = web.WebSocketResponse(max_msg_size=_MAX_EVENT_BYTES, autoping=True)
        await websocket.prepare(request)
        session = RealtimeSession(
            websocket,
            model=request.query.get("model", DEFAULT_MODEL),
            max_duration_seconds=self.max_session_seconds,
            audio_pace=self.audio_pace,
            first_audio_delay=self.first_audio_delay,
        )
        self.sessions.append(session)
        if request.headers.get("OpenAI-Beta", "").startswith("realtime"):
            await session.send(BETA_API_SHAPE_DISABLED.to_event())
            await session.close(BETA_API_SHAPE_DISABLED.close_code, BETA_API_SHAPE_DISABLED.message)
            session.is_closed = True
            return websocket
        await session.run()
        return websocket

    async def _json_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        if not self._is_authorised(request):
            return self._unauthorised()
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _api_error(
                400, "invalid_json", "We could not parse the JSON body of your request."
            )
        if not isinstance(body, dict):
            return _api_error(400, "invalid_json", "The request body must be a JSON object.")
        self.analysis_requests.append(body)
        return body

    async def _chat_completions(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _api_error(
                400, "missing_required_parameter", "Missing required parameter: 'messages'."
            )
        fault = self._next_fault()
        if (refused := _fault_response(fault)) is not None:
            return refused
        if fault == "slow":
            await asyncio.sleep(SLOW_SECONDS)
        transcript = "\n".join(message_text(message.get("content")) for message in messages)
        response_format = body.get("response_format") or {}
        schema = None
        if response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema")
        content = _faulty_content(fault, structured_output(transcript, schema))
        refusal = REFUSAL if fault == "refusal" else None
        if refusal:
            content = None
        prompt_tokens = text_tokens(transcript)
        completion_tokens = text_tokens(refusal or content)
        return web.json_response(
            {
                "id": new_id("chatcmpl"),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "gpt-4o-mini"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
                },
            }
        )

    async def _responses(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        given = body.get("input")
        if given is None:
            return _api_error(
                400, "missing_required_parameter", "Missing required parameter: 'input'."
            )
        if isinstance(given, str):
            transcript = given
        else:
            transcript = "\n".join(
                message_text(entry.get("content")) for entry in given if isinstance(entry, dict)
            )
        fault = self._next_fault()
        if (refused := _fault_response(fault)) is not None:
            return refused
        text_format = (body.get("text") or {}).get("format") or {}
        schema = text_format.get("schema") if text_format.get("type") == "json_schema" else None
        content = _faulty_content(fault, structured_output(transcript, schema))
        part = {"type": "output_text", "text": content, "annotations": []}
        if fault == "refusal":
            content, part = REFUSAL, {"type": "refusal", "refusal": REFUSAL}
        input_tokens, output_tokens = text_tokens(transcript), text_tokens(content)
        return web.json_response(
            {
                "id": new_id("resp"),
                "object": "response",
                "created_at": int(time.time()),
                "status": "completed",
                "model": body.get("model", "gpt-4o-mini"),
                "output": [
                    {
                        "type": "message",
                        "id": new_id("msg"),
                        "status": "completed",
                        "role": "assistant",
                        "content": [part],
                    }
                ],
                "parallel_tool_calls": True,
                "tool_choice": "auto",
                "tools": [],
                "error": None,
                "incomplete_details": None,
                "instructions": body.get("instructions"),
                "metadata": {},
                "temperature": 1.0,
                "top_p": 1.0,
                "text": body.get("text") or {"format": {"type": "text"}},
                "usage": {
                    "input_tokens": input_tokens,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": output_tokens,
                    "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": input_tokens + output_tokens,
                },
            }
        )
