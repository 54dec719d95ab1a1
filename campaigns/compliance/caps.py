"""Frequency caps: how many attempts that rang a number a rolling window may hold.

Every attempt that rang counts, answered or not (the conservative reading). A window
of length W at instant t holds the attempts in (t - W, t]: an attempt leaves the
window exactly W after it was made.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from .ruleset import Cap, load_ruleset


@dataclass(frozen=True, slots=True)
class CapBreach:
    cap: Cap
    counted: int
    until: datetime
    """When enough of the counted attempts have left the window to allow one more call."""


@lru_cache(maxsize=4096)
def caps_binding(version: str, purpose: str, states: tuple[str, ...]) -> tuple[Cap, ...]:
    """The product caps and every candidate state's caps that bind this purpose."""
    ruleset = load_ruleset(version)
    caps = [cap for cap in ruleset.product_caps if purpose in cap.purposes]
    for state in states:
        caps.extend(cap for cap in ruleset.row(state).caps if purpose in cap.purposes)
    return tuple(caps)


def worst_breach(
    attempts: Sequence[datetime], at: datetime, caps: Iterable[Cap]
) -> CapBreach | None:
    """The breached cap that clears last, or None when one more call fits every cap."""
    worst = None
    for cap in caps:
        window = timedelta(hours=cap.per_hours)
        counted = sorted(attempt for attempt in attempts if attempt > at - window)
        if len(counted) < cap.calls:
            continue
        until = counted[len(counted) - cap.calls] + window
        if worst is None or until > worst.until:
            worst = CapBreach(cap, len(counted), until)
    return worst
