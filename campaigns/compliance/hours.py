"""Calling windows: which local hours a day allows, and the next instant they allow a call.

A window is decided per local date: the federal floor narrowed by every candidate
state's row (weekday class, Sunday and holiday rules), or the campaign's own window
and weekdays. Guard bands then open it 1 minute late and close it 5 minutes early so
queue latency cannot push the moment a call is initiated past a legal limit.

Instants are compared in each zone's local wall-clock time through `zoneinfo`, never
through fixed offsets, so DST changes are exact. `earliest_open` finds the exact
earliest instant at which every zone's window is open at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from .calendars import is_holiday
from .decision import Reason
from .ruleset import MICROSECONDS_PER_MINUTE, Span, load_ruleset

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ONE_DAY = timedelta(days=1)
# When a wall-clock opening time cannot be converted forward (it falls in a DST gap
# or repeat), searching moves on by this much rather than stalling.
SEARCH_STEP = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class DayRule:
    """One local date's window: the open span (None when closed all day) and why.

    `reason` is what a closed moment of this day is reported as: the whole day's
    closure (`holiday`, `day_not_allowed`) or, on an open day, being outside the span.
    """

    span: Span | None
    reason: Reason
    why: str


DayRules = Callable[[date], DayRule]


@cache
def zone_info(name: str) -> ZoneInfo:
    # ZoneInfo holds only a few zones strongly; keeping them all avoids re-reading tz files.
    return ZoneInfo(name)


def microseconds_since_midnight(local: datetime | time) -> int:
    return ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond


def local_instant(day: date, microseconds: int, zone: ZoneInfo) -> datetime:
    seconds, micro = divmod(microseconds, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    wall = datetime.combine(day, time(hour, minute, second, micro), tzinfo=zone)
    return wall.astimezone(UTC)


def guarded(span: Span, opens_late_us: int, closes_early_us: int) -> Span:
    return Span(span.opens + opens_late_us, span.closes - closes_early_us)


@lru_cache(maxsize=200_000)
def legal_day_rule(
    version: str,
    day: date,
    states: tuple[str, ...],
    purpose: str,
    has_consent: bool,
    declared_days: frozenset[tuple[str, date]],
) -> DayRule:
    """The federal floor narrowed by every candidate state's rules, guard bands applied."""
    ruleset = load_ruleset(version)
    weekday = day.weekday()
    span = ruleset.federal_floor.for_weekday(weekday)
    if span is None:
        return DayRule(None, Reason.DAY_NOT_ALLOWED, f"no calls on {WEEKDAY_NAMES[weekday]}")
    holiday_bans: list[str] = []
    day_bans: list[str] = []
    bound_by = ["federal"]
    for code in states:
        row = ruleset.row(code)
        if purpose not in row.hours_bind:
            continue
        profile = row.hours_with_consent if has_consent else row.hours
        bound_by.append(code if row.is_checked else f"{code} (unchecked: fallback)")
        if profile.has_holiday_rule and is_holiday(row, day, declared_days):
            if profile.holiday is None:
                holiday_bans.append(code)
                continue
            span = span.narrowed(profile.holiday)
        day_span = profile.for_weekday(weekday)
        if day_span is None:
            day_bans.append(code)
            continue
        span = span.narrowed(day_span)
    if holiday_bans:
        states_text = ", ".join(holiday_bans)
        return DayRule(None, Reason.HOLIDAY, f"{day} is a legal holiday in {states_text}")
    if day_bans:
        states_text = ", ".join(day_bans)
        return DayRule(
            None, Reason.DAY_NOT_ALLOWED, f"no calls on {WEEKDAY_NAMES[weekday]} in {states_text}"
        )
    window = guarded(span, ruleset.opens_late_us, ruleset.closes_early_us)
    rules_text = " + ".join(bound_by)
    if window.opens >= window.closes:
        return DayRule(None, Reason.OUTSIDE_HOURS, f"no hours left on {day} under {rules_text}")
    return DayRule(window, Reason.OUTSIDE_HOURS, f"{window} local under {rules_text}")


@lru_cache(maxsize=50_000)
def campaign_day_rule(
    version: str,
    day: date,
    window: tuple[time, time] | None,
    weekdays: frozenset[int] | None,
) -> DayRule:
    """The campaign's own window and weekdays, guard bands applied like the legal ones."""
    ruleset = load_ruleset(version)
    weekday = day.weekday()
    if weekdays is not None and weekday not in weekdays:
        return DayRule(
            None, Reason.CAMPAIGN_WINDOW, f"the campaign does not call on {WEEKDAY_NAMES[weekday]}"
        )
    if window is None:
        span = Span(0, 24 * 60 * MICROSECONDS_PER_MINUTE)
    else:
        span = guarded(
            Span(*(microseconds_since_midnight(edge) for edge in window)),
            ruleset.opens_late_us,
            ruleset.closes_early_us,
        )
    if span.opens >= span.closes:
        return DayRule(None, Reason.CAMPAIGN_WINDOW, f"the campaign window {span} leaves no time")
    return DayRule(span, Reason.CAMPAIGN_WINDOW, f"campaign window {span} local")


def closed_rule(instant: datetime, zone: str, day_rules: DayRules) -> DayRule | None:
    """Why the window is closed at `instant` in `zone`, or None when it is open."""
    local = instant.astimezone(zone_info(zone))
    rule = day_rules(local.date())
    if (
        rule.span is not None
        and rule.span.opens <= microseconds_since_midnight(local) < rule.span.closes
    ):
        return None
    return rule


def earliest_open_in_zone(
    instant: datetime, zone: str, day_rules: DayRules, last_day: date
) -> datetime | None:
    """The earliest instant >= `instant` at which the zone's window is open.

    Returns `instant` itself only when the window is open at `instant`.
    """
    tz = zone_info(zone)
    local = instant.astimezone(tz)
    day = local.date()
    rule = day_rules(day)
    if rule.span is not None:
        now = microseconds_since_midnight(local)
        if rule.span.opens <= now < rule.span.closes:
            return instant
        if now < rule.span.opens:
            opening = local_instant(day, rule.span.opens, tz)
            return opening if opening > instant else instant + SEARCH_STEP
    while day < last_day:
        day += ONE_DAY
        rule = day_rules(day)
        if rule.span is not None:
            opening = local_instant(day, rule.span.opens, tz)
            return opening if opening > instant else instant + SEARCH_STEP
    return None


def earliest_open(
    instant: datetime, zones: tuple[str, ...], day_rules: DayRules, horizon: timedelta
) -> datetime | None:
    """The exact earliest instant >= `instant` at which every zone's window is open.

    Each round moves the candidate to the latest of the zones' own earliest openings,
    so no instant where all zones are open is ever skipped. None when no such instant
    exists before `instant + horizon`.
    """
    end = instant + horizon
    last_day = end.date() + ONE_DAY
    candidate = instant
    while candidate <= end:
        latest = candidate
        for zone in zones:
            opening = earliest_open_in_zone(candidate, zone, day_rules, last_day)
            if opening is None:
                return None
            latest = max(latest, opening)
        if latest == candidate:
            return candidate
        candidate = latest
    return None
