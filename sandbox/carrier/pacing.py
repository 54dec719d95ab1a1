"""The two limits Twilio puts on an account: dialing rate (queue) and REST request rate (429).

Calls created faster than the account's calls-per-second are not refused: each waits, with
status `queued`, for the next free one-second-divided slot. REST requests beyond the
account's request rate are refused with HTTP 429 and error 20429. Every outbound call is
logged per account with when it was requested and when it was dialed, so tests measure the
rate the carrier saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


class DialPacer:
    """Hands out dial slots no closer together than 1 / calls_per_second."""

    def __init__(self, calls_per_second: float):
        if calls_per_second <= 0:
            raise ValueError("calls_per_second must be positive")
        self.interval = 1.0 / calls_per_second
        self._last_slot: float | None = None

    def next_slot(self, now: float) -> float:
        slot = now if self._last_slot is None else max(now, self._last_slot + self.interval)
        self._last_slot = slot
        return slot


@dataclass
class RequestRateLimit:
    """A token bucket: `burst` requests at once, refilled at `per_second`."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._updated: float | None = None

    def allow(self, now: float) -> bool:
        if self._updated is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


@dataclass(frozen=True)
class DialRecord:
    """One outbound call as the account's dialing rate saw it.

    `requested_at` and `dialed_at` are wall-clock instants (UTC) for people; `dial_slot` is
    the instant the pacer gave the call on the carrier's monotonic clock, in seconds, the
    clock the rate is kept on: two slots are never closer than 1 / calls_per_second there,
    while wall-clock readings taken a few microseconds apart may be.
    """

    call_sid: str
    requested_at: datetime  # the REST create request arrived
    dialed_at: datetime  # the carrier started dialing it, after any queueing
    dial_slot: float

    def as_json(self) -> dict[str, Any]:
        return {
            "call_sid": self.call_sid,
            "requested_at": self.requested_at.isoformat(),
            "dialed_at": self.dialed_at.isoformat(),
            "dial_slot": self.dial_slot,
        }
