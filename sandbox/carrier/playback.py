"""The audio an app queued on a Media Stream, played out 20 ms at a time, and its marks.

Twilio plays what the app sends in order, at 8 bytes (samples) per millisecond. A mark is
echoed when everything queued before it has finished playing; `clear` drops the audio not
yet played and echoes every pending mark at once, so a mark alone cannot tell the app
whether its audio was heard.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

FRAME_BYTES = 160  # 20 ms of μ-law at 8 kHz


@dataclass
class PlaybackQueue:
    _audio: bytearray = field(default_factory=bytearray)
    # (bytes queued in total when the mark arrived, mark name), in arrival order
    _marks: deque[tuple[int, str]] = field(default_factory=deque)
    queued_total: int = 0
    played_total: int = 0
    cleared_total: int = 0

    @property
    def pending_bytes(self) -> int:
        return len(self._audio)

    @property
    def pending_marks(self) -> list[str]:
        return [name for _, name in self._marks]

    def enqueue(self, audio: bytes) -> None:
        self._audio.extend(audio)
        self.queued_total += len(audio)

    def add_mark(self, name: str) -> list[str]:
        """Queue a mark; returns the marks due now (itself, if nothing is left to play)."""
        self._marks.append((self.queued_total, name))
        return self._due_marks()

    def play_frame(self, size: int = FRAME_BYTES) -> tuple[bytes, list[str]]:
        """Take up to `size` bytes to play now; returns them and the marks this completes."""
        played = bytes(self._audio[:size])
        del self._audio[:size]
        self.played_total += len(played)
        return played, self._due_marks()

    def clear(self) -> tuple[int, list[str]]:
        """Drop the unplayed audio; returns how many bytes were dropped and every pending mark."""
        dropped = len(self._audio)
        self._audio.clear()
        self.cleared_total += dropped
        # Positions now refer to audio that will never play; re-base them on what was played.
        self.queued_total = self.played_total
        echoed = [name for _, name in self._marks]
        self._marks.clear()
        return dropped, echoed

    def _due_marks(self) -> list[str]:
        due = []
        while self._marks and self._marks[0][0] <= self.played_total:
            due.append(self._marks.popleft()[1])
        return due
