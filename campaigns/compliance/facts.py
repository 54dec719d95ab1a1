"""The facts about one number, one campaign and its history that a decision is made from.

Facts are plain values so the engine stays pure: the scheduler reads rows, builds
`Facts`, and passes the current instant separately. Defaults fail closed where a
missing fact would otherwise allow a call (no consent, no owned caller ID, seller
not named).
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

PURPOSES = frozenset({"informational", "survey", "telemarketing"})
CONSENTS = frozenset({"none", "express", "express_written"})


class InvalidFacts(ValueError):
    """Facts that cannot describe a real call (a programming error in the caller)."""


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidFacts(f"{name} must be an aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class Abandonment:
    """A campaign's calls answered by a person over the rolling window, how many of them
    were abandoned, and the share above which its dialing stops.

    `recovers_at`: when the oldest abandoned call leaves the window, the first instant the
    rate can fall while the campaign places no calls."""

    answered: int
    abandoned: int
    pause_percent: Decimal
    recovers_at: datetime | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.abandoned <= self.answered:
            raise InvalidFacts(
                f"abandoned calls ({self.abandoned}) must be between 0 and the answered "
                f"calls ({self.answered})"
            )
        if self.recovers_at is not None:
            require_aware(self.recovers_at, "recovers_at")

    @property
    def rate_percent(self) -> Decimal:
        if not self.answered:
            return Decimal(0)
        return Decimal(self.abandoned * 100) / self.answered

    @property
    def is_exceeded(self) -> bool:
        return self.abandoned * 100 > self.pause_percent * self.answered


@dataclass(frozen=True, slots=True)
class Facts:
    """One number, one campaign, its history. Datetimes must be aware.

    - `phone`: E.164. `state`: the address on file's state, USPS code or full name.
    - `attempts`: earlier attempts that rang this number (answered or not).
    - `window`: the campaign's local wall-clock hours (start, end), start < end;
      `weekdays`: the days it calls, 0 = Monday. None: no restriction.
    - `seller_named`: the written consent names the seller (telemarketing).
    - `holiday_overrides`: declared days per state code, e.g. {"LA": [date(...)]}.
    - `budget_resets_at`: when an exhausted budget renews, if known.
    - `abandonment`: the campaign's abandonment over the last 30 days (None: no history).
    """

    phone: str
    purpose: str
    consent: str = "none"
    consent_revoked: bool = False
    suppressed: bool = False
    national_dnc: bool = False
    national_dnc_synced_at: datetime | None = None
    state_dnc: bool = False
    state: str | None = None
    postal_code: str | None = None
    attempts: Collection[datetime] = ()
    window: tuple[time, time] | None = None
    weekdays: Collection[int] | None = None
    caller_id_owned: bool = False
    seller_named: bool = False
    abandonment: Abandonment | None = None
    over_budget: bool = False
    budget_resets_at: datetime | None = None
    holiday_overrides: Mapping[str, Iterable[date]] = field(default_factory=dict)
    # Normalised, hashable forms used as cache keys by the window rules.
    declared_days: frozenset[tuple[str, date]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES:
            raise InvalidFacts(f"purpose must be one of {sorted(PURPOSES)}, got {self.purpose!r}")
        if self.consent not in CONSENTS:
            raise InvalidFacts(f"consent must be one of {sorted(CONSENTS)}, got {self.consent!r}")
        attempts = tuple(self.attempts)
        for attempt in attempts:
            require_aware(attempt, "every attempt")
        object.__setattr__(self, "attempts", attempts)
        if self.national_dnc_synced_at is not None:
            require_aware(self.national_dnc_synced_at, "national_dnc_synced_at")
        if self.budget_resets_at is not None:
            require_aware(self.budget_resets_at, "budget_resets_at")
        if self.window is not None:
            start, end = self.window
            object.__setattr__(self, "window", (start, end))
            if start.tzinfo is not None or end.tzinfo is not None:
                raise InvalidFacts("the campaign window is local wall-clock time: no tzinfo")
            if not start < end:
                raise InvalidFacts(f"the campaign window must start before it ends: {self.window}")
        if self.weekdays is not None:
            weekdays = frozenset(self.weekdays)
            if not weekdays <= set(range(7)):
                raise InvalidFacts(f"weekdays are 0 (Monday) to 6 (Sunday), got {sorted(weekdays)}")
            object.__setattr__(self, "weekdays", weekdays)
        if self.state is not None:
            object.__setattr__(self, "state", self.state.strip().upper() or None)
        declared = frozenset(
            (state.strip().upper(), day)
            for state, days in self.holiday_overrides.items()
            for day in days
        )
        if any(isinstance(day, datetime) or not isinstance(day, date) for _, day in declared):
            raise InvalidFacts("holiday overrides are dates (not datetimes) per state code")
        object.__setattr__(self, "declared_days", declared)

    @property
    def abandon_rate_exceeded(self) -> bool:
        return self.abandonment is not None and self.abandonment.is_exceeded

    @property
    def has_consent(self) -> bool:
        return self.consent != "none" and not self.consent_revoked

    @property
    def has_written_consent_naming_seller(self) -> bool:
        return self.consent == "express_written" and self.seller_named and not self.consent_revoked
