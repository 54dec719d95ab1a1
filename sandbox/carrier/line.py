"""The answered phone line: a 20 ms clock carrying audio both ways, from answer to hang-up.

Every tick the callee's mouth yields one frame (their speech or silence: phones send audio
continuously) and whatever the call is currently running (a Media Stream's playback queue,
a `<Say>`) yields what the callee hears. Both tracks are appended to the call's recording
buffers, so the recording is exactly what was said and what was played, time-aligned.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from sandbox.carrier.calls import Call
from sandbox.carrier.playback import FRAME_BYTES

FRAME_SECONDS = 0.020
FRAME_MS = 20
SILENT_FRAME = b"\xff" * FRAME_BYTES  # μ-law silence


class Endpoint(Protocol):
    """What the call is running right now, facing the callee."""

    def exchange(self, caller_frame: bytes, at_ms: int) -> bytes:
        """Take the callee's frame; return the audio played to them in it (up to 160 bytes)."""
        ...

    def press(self, digit: str, at_ms: int) -> None:
        """The callee pressed a key."""
        ...


class Callee(Protocol):
    """Whoever answered: a person or a machine."""

    def speak_frame(self, at_ms: int) -> bytes: ...

    def hear(self, frame: bytes, played_bytes: int, at_ms: int) -> None: ...


class PhoneLine:
    def __init__(self, call: Call, callee: Callee):
        self.call = call
        self.callee = callee
        self.endpoint: Endpoint | None = None
        self.ticks = 0

    @property
    def now_ms(self) -> int:
        return self.ticks * FRAME_MS

    def attach(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def detach(self, endpoint: Endpoint) -> None:
        if self.endpoint is endpoint:
            self.endpoint = None

    def press(self, digit: str) -> None:
        self.call.dtmf_sent.append((self.now_ms, digit))
        self.call.note("callee", "note", "pressed key", digit=digit)
        if self.endpoint is not None:
            self.endpoint.press(digit, self.now_ms)

    async def run(self) -> None:
        """Tick every 20 ms of wall-clock time until cancelled, catching up if the loop lagged."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            while loop.time() >= started + self.ticks * FRAME_SECONDS:
                self._tick()
            await asyncio.sleep(max(0.0, started + self.ticks * FRAME_SECONDS - loop.time()))

    def _tick(self) -> None:
        at_ms = self.now_ms
        caller_frame = self.callee.speak_frame(at_ms)
        played = self.endpoint.exchange(caller_frame, at_ms) if self.endpoint else b""
        heard = played + SILENT_FRAME[len(played) :]
        self.call.caller_audio.extend(caller_frame)
        self.call.heard_audio.extend(heard)
        if played:
            self.call.note_played(at_ms, played)
        self.callee.hear(heard, len(played), at_ms)
        self.ticks += 1
