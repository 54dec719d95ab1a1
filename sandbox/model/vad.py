"""Server voice-activity detection on the received audio, on the session's audio clock.

Energy per 10 ms frame against a level derived from `threshold`; speech starts on the
first loud frame (reported `prefix_padding_ms` earlier, as OpenAI does) and stops once
`silence_duration_ms` of quiet frames have followed it. Times are milliseconds of audio
received this session, so results do not depend on how fast the client sends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sandbox import speech

FRAME_MS = 10
_FRAME_BYTES = FRAME_MS * speech.BYTES_PER_MS


def level_for_threshold(threshold: float) -> float:
    """RMS (int16 scale) a frame must exceed: threshold 0 → -60 dBFS, 1 → -10 dBFS."""
    return 32768 * 10 ** ((-60 + 50 * threshold) / 20)


@dataclass(frozen=True)
class SpeechStarted:
    audio_start_ms: int


@dataclass(frozen=True)
class SpeechStopped:
    audio_start_ms: int
    audio_end_ms: int


class ServerVad:
    """Feeds on μ-law 8 kHz audio and reports where speech starts and stops."""

    def __init__(
        self, *, threshold: float, prefix_padding_ms: int, silence_duration_ms: int
    ) -> None:
        self.level = level_for_threshold(threshold)
        self.prefix_padding_ms = prefix_padding_ms
        self.silence_duration_ms = silence_duration_ms
        self.received_ms = 0
        self._pending = b""
        self._speech_start_ms: int | None = None
        self._last_loud_end_ms = 0

    @property
    def is_in_speech(self) -> bool:
        return self._speech_start_ms is not None

    def feed(self, ulaw: bytes) -> list[SpeechStarted | SpeechStopped]:
        """Consume audio; return the speech boundaries it completes, in order."""
        self._pending += ulaw
        whole = len(self._pending) - len(self._pending) % _FRAME_BYTES
        frames, self._pending = self._pending[:whole], self._pending[whole:]
        events: list[SpeechStarted | SpeechStopped] = []
        if not frames:
            return events
        samples = speech.ulaw_to_pcm16(frames).astype(np.float64).reshape(-1, _FRAME_BYTES)
        loudness = np.sqrt(np.mean(samples * samples, axis=1))
        for frame_rms in loudness:
            frame_start_ms = self.received_ms
            self.received_ms += FRAME_MS
            if frame_rms > self.level:
                self._last_loud_end_ms = self.received_ms
                if self._speech_start_ms is None:
                    self._speech_start_ms = max(0, frame_start_ms - self.prefix_padding_ms)
                    events.append(SpeechStarted(self._speech_start_ms))
            elif (
                self._speech_start_ms is not None
                and self.received_ms - self._last_loud_end_ms >= self.silence_duration_ms
            ):
                events.append(SpeechStopped(self._speech_start_ms, self.received_ms))
                self._speech_start_ms = None
        return events

    def reset(self) -> None:
        """Forget a speech segment in progress (the input buffer was cleared)."""
        self._speech_start_ms = None
