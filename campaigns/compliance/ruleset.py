"""The versioned rule data: federal floor, per-state rows, fallback profile and caps.

The rules live in `data/<version>.json` so counsel can review and change them without
code changes. The engine pins one version (`PINNED_VERSION`) and names it on every
decision. Files are parsed once per process.
"""

import json
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
PINNED_VERSION = "us-2026-11-01"
MICROSECONDS_PER_MINUTE = 60_000_000
DAY_CLASSES = ("weekday", "saturday", "sunday")


class RulesetError(ValueError):
    """The rule data file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Span:
    """Local wall-clock hours, [opens, closes), in microseconds since midnight."""

    opens: int
    closes: int

    def narrowed(self, other: "Span") -> "Span":
        return Span(max(self.opens, other.opens), min(self.closes, other.closes))

    def __str__(self) -> str:
        return f"{clock(self.opens)}-{clock(self.closes)}"


def clock(microseconds: int) -> str:
    minutes, _ = divmod(microseconds, MICROSECONDS_PER_MINUTE)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class HoursProfile:
    """Allowed hours per weekday class; None means no calls on that class of day.

    `has_holiday_rule` is False when holidays are ordinary days for this profile;
    otherwise `holiday` gives the hours on a holiday (None: no calls).
    """

    weekday: Span | None
    saturday: Span | None
    sunday: Span | None
    has_holiday_rule: bool
    holiday: Span | None

    def for_weekday(self, weekday: int) -> Span | None:
        if weekday < 5:
            return self.weekday
        return self.saturday if weekday == 5 else self.sunday


@dataclass(frozen=True, slots=True)
class Cap:
    calls: int
    per_hours: int
    purposes: frozenset[str]
    why: str


@dataclass(frozen=True, slots=True)
class StateRow:
    code: str
    name: str
    is_checked: bool
    hours: HoursProfile
    hours_with_consent: HoursProfile
    hours_bind: frozenset[str]
    caps: tuple[Cap, ...]
    extra_month_days: frozenset[tuple[int, int]]
    declared_days: frozenset[date]
    confidence: str
    source: str
    last_verified: date | None


@dataclass(frozen=True, slots=True)
class Ruleset:
    version: str
    federal_floor: HoursProfile
    fallback: HoursProfile
    opens_late_us: int
    closes_early_us: int
    national_registry_max_age_days: int
    product_caps: tuple[Cap, ...]
    search_horizon_days: int
    states: dict[str, StateRow]

    def row(self, state: str) -> StateRow:
        """The row for a state; states nobody researched get the fallback profile."""
        found = self.states.get(state)
        if found is not None:
            return found
        return fallback_row(state, self.fallback)


@lru_cache(maxsize=256)
def fallback_row(state: str, fallback: HoursProfile) -> StateRow:
    return StateRow(
        code=state,
        name=state,
        is_checked=False,
        hours=fallback,
        hours_with_consent=fallback,
        hours_bind=frozenset({"informational", "survey", "telemarketing"}),
        caps=(),
        extra_month_days=frozenset(),
        declared_days=frozenset(),
        confidence="-",
        source="unchecked: fallback profile",
        last_verified=None,
    )


def parse_minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return (int(hours) * 60 + int(minutes)) * MICROSECONDS_PER_MINUTE


def parse_span(value: list[str] | None) -> Span | None:
    if value is None:
        return None
    opens, closes = value
    return Span(parse_minutes(opens), parse_minutes(closes))


def parse_hours(value: dict) -> HoursProfile:
    return HoursProfile(
        weekday=parse_span(value["weekday"]),
        saturday=parse_span(value["saturday"]),
        sunday=parse_span(value["sunday"]),
        has_holiday_rule="holiday" in value,
        holiday=parse_span(value.get("holiday")),
    )


def parse_caps(values: list[dict]) -> tuple[Cap, ...]:
    return tuple(
        Cap(
            calls=value["calls"],
            per_hours=value["per_hours"],
            purposes=frozenset(value["purposes"]),
            why=value.get("why", ""),
        )
        for value in values
    )


def parse_state(code: str, value: dict, fallback: HoursProfile) -> StateRow:
    hours = parse_hours(value["hours"]) if value["checked"] else fallback
    with_consent = value.get("hours_with_consent")
    calendar = value.get("holiday_calendar", {})
    verified = value.get("last_verified")
    return StateRow(
        code=code,
        name=value["name"],
        is_checked=value["checked"],
        hours=hours,
        hours_with_consent=parse_hours(with_consent) if with_consent else hours,
        hours_bind=frozenset(value["hours_bind"]),
        caps=parse_caps(value.get("caps", [])),
        extra_month_days=frozenset(
            (int(month), int(day))
            for month, day in (text.split("-") for text in calendar.get("extra_month_days", []))
        ),
        declared_days=frozenset(
            date.fromisoformat(text) for text in calendar.get("declared_days", [])
        ),
        confidence=value["confidence"],
        source=value["source"],
        last_verified=date.fromisoformat(verified) if verified else None,
    )


@cache
def load_ruleset(version: str = PINNED_VERSION) -> Ruleset:
    path = DATA_DIR / f"{version}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        fallback = parse_hours(raw["fallback"]["hours"])
        guard_bands = raw["guard_bands"]
        return Ruleset(
            version=raw["version"],
            federal_floor=parse_hours(raw["federal_floor"]["hours"]),
            fallback=fallback,
            opens_late_us=guard_bands["open_late_minutes"] * MICROSECONDS_PER_MINUTE,
            closes_early_us=guard_bands["close_early_minutes"] * MICROSECONDS_PER_MINUTE,
            national_registry_max_age_days=raw["national_registry_max_age_days"],
            product_caps=parse_caps(raw["product_caps"]),
            search_horizon_days=raw["search_horizon_days"],
            states={
                code: parse_state(code, value, fallback) for code, value in raw["states"].items()
            },
        )
    except FileNotFoundError as error:
        raise RulesetError(f"no rule set {version!r} in {DATA_DIR}") from error
    except (KeyError, TypeError, ValueError) as error:
        raise RulesetError(f"rule set {version!r} is malformed: {error!r}") from error
