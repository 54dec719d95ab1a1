"""How long the caller waits for the agent, measured on one call's monotonic clock.

Three instants matter: the answer (the media stream's start), the caller's end of speech,
and the agent's first audio of each turn, both when the bridge sent it to the carrier and
when the carrier started playing it. The model reports the end of speech as
`speech_stopped.audio_end_ms`, a position on the audio the bridge sent it, not a time, and
one that includes the server VAD's silence window (the quiet it waited for before deciding
the caller had finished). The meter takes the window off, so the turn starts when the
caller fell silent, and places that position on the clock at the moment the bridge
received the frame holding that audio. So a turn's latency includes the model's end-of-speech detection, its response time
and the bridge's own delay: what the caller lives through.

The carrier echoes a chunk's mark once the chunk has played, so the chunk started playing
one chunk's length before its echo (never before it was sent).

Pure bookkeeping, no I/O: the bridge feeds it and writes `summary()` when the call ends.
"""

from collections import deque
from dataclasses import dataclass

from calls.latency import latency_percentiles

# 47 CFR 64.1200(a)(7): the caller must hear the agent within 2 seconds of the answer.
ABANDON_AFTER_MS = 2000
# Frames remembered for placing the end of speech on the clock: 30 s of 20 ms frames. The
# model reports it well within a second; older audio is placed at the oldest frame kept.
FRAMES_KEPT = 1500


@dataclass
class TurnLatency:
    speech_ended_at: float
    sent_ms: int
    played_ms: int | None = None


class LatencyMeter:
    def __init__(self, *, answered_at: float, silence_window_ms: int = 0):
        self.answered_at = answered_at
        self.silence_window_ms = silence_window_ms
        self._frames: deque[tuple[int, float]] = deque(maxlen=FRAMES_KEPT)
        self._speech_ended_at: float | None = None  # the caller's last end of speech, unanswered
        self.first_sent_at: float | None = None
        self.first_item_id: str | None = None
        self.first_played_at: float | None = None
        self.turns: dict[str, TurnLatency] = {}

    def heard(self, *, heard_ms: int, at: float) -> None:
        """Caller audio up to `heard_ms` on the call's audio timeline arrived at `at`."""
        self._frames.append((heard_ms, at))

    def speech_ended(self, *, call_ms: int, at: float) -> None:
        """The model says the caller stopped speaking at `call_ms` of the call's audio
        (silence window included)."""
        call_ms -= self.silence_window_ms
        received_at = at
        for heard_ms, frame_at in reversed(self._frames):
            if heard_ms < call_ms:
                break
            received_at = frame_at
        self._speech_ended_at = min(received_at, at)

    def audio_sent(self, *, item_id: str, at: float) -> None:
        """The first chunk of agent item `item_id` went to the carrier at `at`."""
        if self.first_sent_at is None:
            self.first_sent_at, self.first_item_id = at, item_id
        if self._speech_ended_at is not None and item_id not in self.turns:
            sent_ms = max(0, round((at - self._speech_ended_at) * 1000))
            self.turns[item_id] = TurnLatency(self._speech_ended_at, sent_ms)
            self._speech_ended_at = None

    def audio_played(self, *, item_id: str, chunk_ms: float, sent_at: float, at: float) -> None:
        """The carrier echoed the mark of a chunk of `item_id` (`chunk_ms` long) at `at`."""
        started_at = max(sent_at, at - chunk_ms / 1000)
        if item_id == self.first_item_id and self.first_played_at is None:
            self.first_played_at = started_at
        turn = self.turns.get(item_id)
        if turn is not None and turn.played_ms is None:
            turn.played_ms = max(0, round((started_at - turn.speech_ended_at) * 1000))

    def turn(self, item_id: str) -> TurnLatency | None:
        return self.turns.get(item_id)

    def _since_answer(self, at: float | None) -> int | None:
        return None if at is None else max(0, round((at - self.answered_at) * 1000))

    @property
    def first_audio_sent_ms(self) -> int | None:
        return self._since_answer(self.first_sent_at)

    @property
    def first_audio_played_ms(self) -> int | None:
        return self._since_answer(self.first_played_at)

    @property
    def is_first_audio_late(self) -> bool:
        """No agent audio reached the carrier within 2 s of the answer (or none at all)."""
        sent = self.first_audio_sent_ms
        return sent is None or sent > ABANDON_AFTER_MS

    def summary(self) -> dict:
        """What the call row keeps: first audio, and the turns' percentiles (ms)."""
        turns = list(self.turns.values())
        return {
            "first_audio_sent_ms": self.first_audio_sent_ms,
            "first_audio_played_ms": self.first_audio_played_ms,
            "turn_latency": {
                "turns": len(turns),
                "sent": latency_percentiles([turn.sent_ms for turn in turns]),
                "played": latency_percentiles(
                    [turn.played_ms for turn in turns if turn.played_ms is not None]
                ),
            },
        }
