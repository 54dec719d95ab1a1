"""How much of the agent's audio the caller has really heard, from the carrier's marks.

The model generates audio faster than real time, so most of what was sent sits in the
carrier's buffer. A `mark` follows every chunk; the carrier echoes it once everything
before it has played. Played time of an item = its echoed chunks + the wall-clock time
since the chunk now playing started, capped at what was sent. μ-law is 8 bytes per ms.
"""

from collections import deque
from dataclasses import dataclass

BYTES_PER_MS = 8


def base64_decoded_length(payload: str) -> int:
    """Bytes a base64 string decodes to, without decoding it."""
    return len(payload) * 3 // 4 - payload[-2:].count("=") if payload else 0


@dataclass
class Chunk:
    mark: str
    item_id: str
    ms: float
    sent_at: float


class PlaybackTracker:
    """Marks in flight for one carrier stream. Times are monotonic seconds, passed in."""

    def __init__(self) -> None:
        self._pending: deque[Chunk] = deque()
        self._sent_ms: dict[str, float] = {}
        self._echoed_ms: dict[str, float] = {}
        self._last_echo_at: float | None = None
        self._sequence = 0
        # Marks sent before a `clear` come back at once and mean "not played".
        self._voided: set[str] = set()

    def sent(self, *, item_id: str, audio_bytes: int, at: float) -> str:
        """Record a chunk handed to the carrier; returns the mark name to send after it."""
        self._sequence += 1
        mark = f"{item_id}:{self._sequence}"
        ms = audio_bytes / BYTES_PER_MS
        self._pending.append(Chunk(mark, item_id, ms, at))
        self._sent_ms[item_id] = self._sent_ms.get(item_id, 0) + ms
        return mark

    def echoed(self, mark: str, *, at: float) -> list[Chunk]:
        """The carrier echoed `mark`: returns the chunks this tells were played."""
        if mark in self._voided:
            self._voided.discard(mark)
            return []
        played = []
        while self._pending:
            chunk = self._pending.popleft()
            played.append(chunk)
            self._echoed_ms[chunk.item_id] = self._echoed_ms.get(chunk.item_id, 0) + chunk.ms
            if chunk.mark == mark:
                break
        self._last_echo_at = at
        return played

    def cleared(self) -> None:
        """The carrier dropped everything not yet played."""
        self._voided.update(chunk.mark for chunk in self._pending)
        self._pending.clear()

    @property
    def is_idle(self) -> bool:
        """True when the carrier has played (or dropped) everything sent."""
        return not self._pending

    @property
    def playing_item_id(self) -> str | None:
        return self._pending[0].item_id if self._pending else None

    def pending_item_ids(self) -> list[str]:
        """Items with audio still queued at the carrier, the one playing first."""
        return list(dict.fromkeys(chunk.item_id for chunk in self._pending))

    def unplayed_ms(self, *, at: float) -> int:
        """How long what is queued at the carrier will take to play out from `at`."""
        if not self._pending:
            return 0
        head = self._pending[0]
        started = max(head.sent_at, self._last_echo_at or head.sent_at)
        queued = sum(chunk.ms for chunk in self._pending)
        return max(0, round(queued - (at - started) * 1000))

    def sent_ms(self, item_id: str) -> int:
        return round(self._sent_ms.get(item_id, 0))

    def played_ms(self, item_id: str, *, at: float) -> int:
        """Milliseconds of `item_id` the caller has heard by `at`."""
        played = self._echoed_ms.get(item_id, 0.0)
        if self._pending:
            head = self._pending[0]
            started = max(head.sent_at, self._last_echo_at or head.sent_at)
            elapsed_ms = max(0.0, (at - started) * 1000)
            for chunk in self._pending:
                if elapsed_ms <= 0:
                    break
                heard = min(elapsed_ms, chunk.ms)
                if chunk.item_id == item_id:
                    played += heard
                elapsed_ms -= heard
        return min(round(played), self.sent_ms(item_id))

    def is_fully_played(self, item_id: str) -> bool:
        return not any(chunk.item_id == item_id for chunk in self._pending)
