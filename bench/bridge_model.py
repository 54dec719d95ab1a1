"""A lean Realtime (GA) stand-in that records when each audio payload came and went.

Run by `bench.bridge` as its own process, so that daphne's CPU time is the bridge's alone:
`python -m bench.bridge_model --results PATH [--response-ms 3000] [--pace 4]`. It prints
its `OPENAI_BASE_URL` on the first line of stdout, serves until SIGTERM, then writes what
it recorded to PATH (numpy `.npz`).

It speaks the event sequence the bridge relies on (session, response lifecycle, 100 ms
audio deltas faster than real time with transcript deltas, caller turns, cancel,
truncate; with server VAD and `interrupt_response` true, the default, it cancels the
active response itself on `speech_started`, as the real API does), but hears the caller through the `IS_SPEECH` flag of each frame's stamp rather
than through a VAD and a recogniser: the bridge never looks at the audio, and the
sandbox model's VAD would take the CPU this two-core machine needs for daphne.
"""

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import signal
import sys
import time
from array import array
from pathlib import Path

import numpy as np
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response

from bench.bridge_stamps import (
    BYTES_PER_MS,
    IS_SPEECH,
    STAMP_BASE64_CHARS,
    StampedAudio,
    read_stamp,
)

API_KEY = "sk-bench-bridge"
APPEND_PREFIX = '{"type":"input_audio_buffer.append","audio":"'
AUDIO_DELTA_MS = 100
DEFAULT_RESPONSE_MS = 3000
DEFAULT_PACE = 4.0
SILENCE_DURATION_MS = 500  # the agents' default server VAD setting
USAGE = {
    "total_tokens": 420,
    "input_tokens": 300,
    "output_tokens": 120,
    "input_token_details": {
        "text_tokens": 250,
        "audio_tokens": 50,
        "cached_tokens": 0,
        "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0},
    },
    "output_token_details": {"text_tokens": 20, "audio_tokens": 100},
}
REPLY_WORDS = "Thanks, your appointment on Tuesday at nine is confirmed. Anything else?".split()


class Recorder:
    """Everything timed, as flat arrays (cheap to append, one `.npz` at the end)."""

    def __init__(self) -> None:
        self.frame_call = array("I")
        self.frame_sequence = array("I")
        self.frame_at = array("d")
        self.delta_session = array("I")
        self.delta_sequence = array("I")
        self.delta_at = array("d")
        self.delta_is_muted = array("B")
        self.speech_call = array("I")
        self.speech_at = array("d")
        self.session_call: dict[int, int] = {}

    def save(self, path: Path) -> None:
        sessions = sorted(self.session_call.items())
        np.savez(
            path,
            frame_call=np.frombuffer(self.frame_call, dtype=np.uint32),
            frame_sequence=np.frombuffer(self.frame_sequence, dtype=np.uint32),
            frame_at=np.frombuffer(self.frame_at, dtype=np.float64),
            delta_session=np.frombuffer(self.delta_session, dtype=np.uint32),
            delta_sequence=np.frombuffer(self.delta_sequence, dtype=np.uint32),
            delta_at=np.frombuffer(self.delta_at, dtype=np.float64),
            delta_is_muted=np.frombuffer(self.delta_is_muted, dtype=np.uint8),
            speech_call=np.frombuffer(self.speech_call, dtype=np.uint32),
            speech_at=np.frombuffer(self.speech_at, dtype=np.float64),
            session_index=np.array([index for index, _ in sessions], dtype=np.uint32),
            session_call=np.array([call for _, call in sessions], dtype=np.uint32),
        )


_event_ids = itertools.count(1)


def event(event_type: str, **fields) -> str:
    return json.dumps({"type": event_type, "event_id": f"event_{next(_event_ids)}", **fields})


class SpokenResponse:
    """One response being spoken; `is_muted` once the caller started talking over it (the
    bridge drops the rest of its audio on purpose: those deltas are not lost)."""

    def __init__(self, response_id: str, item_id: str):
        self.id = response_id
        self.item_id = item_id
        self.is_cancelled = False
        self.is_muted = False


class BenchSession:
    def __init__(
        self, connection: ServerConnection, index: int, recorder: Recorder, *, response_ms, pace
    ):
        self.connection = connection
        self.index = index
        self.recorder = recorder
        self.response_ms = response_ms
        self.pace = pace
        self.call: int | None = None
        self.received_ms = 0
        self.is_in_speech = False
        self.speech_item_id = ""
        self.speech_start_ms = 0
        self.silent_ms = 0
        self.response: SpokenResponse | None = None
        # As the real API: the server cancels the active response when speech starts,
        # unless the session's turn detection says `interrupt_response: false`.
        self.is_interrupting_responses = True
        self.delta_sequence = 0
        self.ids = itertools.count(1)
        self.audio = StampedAudio(AUDIO_DELTA_MS * BYTES_PER_MS)
        self.tasks: set[asyncio.Task] = set()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{self.index}x{next(self.ids)}"

    async def send(self, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.connection.send(text)

    async def run(self) -> None:
        await self.send(event("session.created", session={"id": f"sess_{self.index}"}))
        try:
            async for message in self.connection:
                if isinstance(message, str):
                    await self.receive(message)
        except ConnectionClosed:
            pass
        finally:
            for task in self.tasks:
                task.cancel()

    async def receive(self, text: str) -> None:
        if text.startswith(APPEND_PREFIX):
            head = text[len(APPEND_PREFIX) : len(APPEND_PREFIX) + STAMP_BASE64_CHARS]
            await self.on_frame(head, (len(text) - len(APPEND_PREFIX) - 2) * 3 // 4)
            return
        message = json.loads(text)
        kind = message.get("type")
        if kind == "input_audio_buffer.append":  # sent in another JSON layout
            audio = message["audio"]
            await self.on_frame(audio, len(audio) * 3 // 4)
        elif kind == "session.update":
            session = message.get("session") or {}
            detection = ((session.get("audio") or {}).get("input") or {}).get("turn_detection")
            if isinstance(detection, dict):
                self.is_interrupting_responses = detection.get("interrupt_response", True)
            await self.send(event("session.updated", session=message.get("session")))
        elif kind == "response.create":
            if self.response is None:
                self.start_response()
            else:
                await self.send(
                    event(
                        "error",
                        error={
                            "type": "invalid_request_error",
                            "code": "conversation_already_has_active_response",
                            "message": "Conversation already has an active response.",
                        },
                    )
                )
        elif kind == "response.cancel":
            if self.response is not None:
                self.response.is_cancelled = True
        elif kind == "conversation.item.truncate":
            await self.send(
                event(
                    "conversation.item.truncated",
                    item_id=message.get("item_id"),
                    content_index=0,
                    audio_end_ms=message.get("audio_end_ms"),
                )
            )
        elif kind == "conversation.item.create":
            item = dict(message.get("item") or {}, id=self.new_id("item"), status="completed")
            await self.send(event("conversation.item.added", item=item))

    async def on_frame(self, head: str, size: int) -> None:
        at = time.monotonic()
        call, sequence, flags = read_stamp(head)
        recorder = self.recorder
        recorder.frame_call.append(call)
        recorder.frame_sequence.append(sequence)
        recorder.frame_at.append(at)
        if self.call is None:
            self.call = call
            recorder.session_call[self.index] = call
        self.received_ms += size // BYTES_PER_MS
        if flags & IS_SPEECH:
            self.silent_ms = 0
            if not self.is_in_speech:
                await self.speech_started()
        elif self.is_in_speech:
            self.silent_ms += size // BYTES_PER_MS
            if self.silent_ms >= SILENCE_DURATION_MS:
                await self.speech_stopped()

    async def speech_started(self) -> None:
        self.is_in_speech = True
        self.speech_item_id = self.new_id("item")
        self.speech_start_ms = self.received_ms
        if self.response is not None:
            self.response.is_muted = True
            if self.is_interrupting_responses:
                self.response.is_cancelled = True
        self.recorder.speech_call.append(self.call)
        self.recorder.speech_at.append(time.monotonic())
        await self.send(
            event(
                "input_audio_buffer.speech_started",
                audio_start_ms=self.speech_start_ms,
                item_id=self.speech_item_id,
            )
        )

    async def speech_stopped(self) -> None:
        self.is_in_speech = False
        item_id = self.speech_item_id
        end_ms = self.received_ms - self.silent_ms
        await self.send(
            event("input_audio_buffer.speech_stopped", audio_end_ms=end_ms, item_id=item_id)
        )
        await self.send(event("input_audio_buffer.committed", item_id=item_id))
        item = {"id": item_id, "type": "message", "role": "user", "status": "completed"}
        await self.send(event("conversation.item.added", item=item))
        await self.send(
            event(
                "conversation.item.input_audio_transcription.completed",
                item_id=item_id,
                content_index=0,
                transcript="yes that works for me",
            )
        )
        if self.response is None:
            self.start_response()

    def start_response(self) -> None:
        self.response = SpokenResponse(self.new_id("resp"), self.new_id("item"))
        task = asyncio.get_running_loop().create_task(self.speak(self.response))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def speak(self, response: SpokenResponse) -> None:
        where = {"response_id": response.id, "item_id": response.item_id, "output_index": 0}
        item = {"id": response.item_id, "type": "message", "role": "assistant"}
        await self.send(
            event("response.created", response={"id": response.id, "status": "in_progress"})
        )
        await self.send(event("response.output_item.added", **where, item=item))
        await self.send(event("conversation.item.added", item=item))
        await self.send(event("response.content_part.added", **where, content_index=0))
        deltas = max(1, self.response_ms // AUDIO_DELTA_MS)
        audio_prefix = (
            '{"type":"response.output_audio.delta","response_id":"'
            + response.id
            + '","item_id":"'
            + response.item_id
            + '","output_index":0,"content_index":0,"delta":"'
        )
        recorder = self.recorder
        said = []
        for index in range(deltas):
            if response.is_cancelled:
                break
            word = REPLY_WORDS[index % len(REPLY_WORDS)]
            said.append(word)
            await self.send(
                event(
                    "response.output_audio_transcript.delta",
                    **where,
                    content_index=0,
                    delta=word if index == 0 else f" {word}",
                )
            )
            self.delta_sequence += 1
            recorder.delta_session.append(self.index)
            recorder.delta_sequence.append(self.delta_sequence)
            recorder.delta_is_muted.append(response.is_muted)
            recorder.delta_at.append(time.monotonic())
            await self.send(
                audio_prefix + self.audio.payload(self.index, self.delta_sequence) + '"}'
            )
            await asyncio.sleep(AUDIO_DELTA_MS / 1000 / self.pace)
        status = "cancelled" if response.is_cancelled else "completed"
        transcript = " ".join(said)
        if status == "completed":
            await self.send(event("response.output_audio.done", **where, content_index=0))
            await self.send(
                event(
                    "response.output_audio_transcript.done",
                    **where,
                    content_index=0,
                    transcript=transcript,
                )
            )
        done_item = {**item, "status": "completed" if status == "completed" else "incomplete"}
        await self.send(event("response.output_item.done", **where, item=done_item))
        await self.send(
            event(
                "response.done",
                response={"id": response.id, "status": status, "output": [], "usage": USAGE},
            )
        )
        if self.response is response:
            self.response = None


async def serve_until_stopped(results: Path, *, response_ms: int, pace: float) -> None:
    recorder = Recorder()
    indexes = itertools.count(1)
    gc.freeze()  # collector pauses here would count as the bridge's latency

    def refuse_strangers(connection: ServerConnection, request):
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return Response(401, "Unauthorized", Headers(), b"invalid_api_key\n")
        return None

    async def handle(connection: ServerConnection) -> None:
        session = BenchSession(
            connection, next(indexes), recorder, response_ms=response_ms, pace=pace
        )
        await session.run()

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopping.set)
    async with serve(
        handle,
        "127.0.0.1",
        0,
        process_request=refuse_strangers,
        compression=None,
        max_size=2**20,
        ping_interval=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"http://127.0.0.1:{port}/v1", flush=True)
        await stopping.wait()
    recorder.save(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True, help="where to write the .npz")
    parser.add_argument("--response-ms", type=int, default=DEFAULT_RESPONSE_MS)
    parser.add_argument("--pace", type=float, default=DEFAULT_PACE, help="times real time")
    arguments = parser.parse_args()
    asyncio.run(
        serve_until_stopped(
            arguments.results, response_ms=arguments.response_ms, pace=arguments.pace
        )
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
