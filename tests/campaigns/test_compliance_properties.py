"""Properties of `evaluate` over random numbers, instants, states, windows and histories.

The calling-window oracle here is a separate, plain reading of the rule data file and
the `holidays` package: it checks the engine's answer on each zone's wall clock rather
than trusting the engine's own day windows.
"""

import json
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaigns.compliance
from campaigns.compliance import Facts, evaluate, explain, locate

DATA = Path(campaigns.compliance.__file__).parent / "data"
RULES = json.loads((DATA / "us-2026-11-01.json").read_text())
LOCATIONS = json.loads((DATA / "us-locations.json").read_text())
ONE_MICROSECOND = timedelta(microseconds=1)
GUARD_OPEN, GUARD_CLOSE = timedelta(minutes=1), timedelta(minutes=5)

AREA_CODES = [
    # single-zone numbers across the states with their own rows and the fallback
    "212", "305", "407", "405", "410", "206", "860", "512", "915", "601", "504", "205",
    "215", "801", "401", "605", "402", "502", "312", "617", "313", "612", "702", "505",
    "404", "213", "303", "602", "808", "907", "787", "340", "671",
    # split area codes
    "208", "219", "270", "308", "423", "541", "574", "606", "620", "701", "775", "785",
    "812", "850", "906", "928", "986",
    # no location at all
    "800", "888", "500", "123",
]  # fmt: skip
STATES_ON_FILE = sorted(LOCATIONS["state_zones"])
ZONES = sorted({zone for zones in LOCATIONS["state_zones"].values() for zone in zones})


def dst_changes(zone_name: str, year: int) -> list[datetime]:
    """Instants in `year` at which the zone's UTC offset changes (to the hour)."""
    zone = ZoneInfo(zone_name)
    changes = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            hour = day
            while hour.astimezone(zone).utcoffset() == day.astimezone(zone).utcoffset():
                hour += timedelta(hours=1)
            changes.append(hour)
        day = following
    return changes


DST_CHANGES = sorted({change for zone in ZONES for change in dst_changes(zone, 2026)})

plain_instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
near_dst_changes = st.builds(
    lambda change, minutes, micros: change + timedelta(minutes=minutes, microseconds=micros),
    st.sampled_from(DST_CHANGES),
    st.integers(-36 * 60, 36 * 60),
    st.integers(0, 999_999),
)


def near_window_edges(zones) -> st.SearchStrategy[datetime]:
    """Wall-clock times in one of `zones` a few minutes either side of an opening or closing."""
    return st.builds(
        lambda day, zone, edge, seconds: (
            datetime.combine(day, time(edge), tzinfo=ZoneInfo(zone)) + timedelta(seconds=seconds)
        ).astimezone(UTC),
        st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
        st.sampled_from(zones),
        st.sampled_from([8, 9, 10, 12, 13, 16, 18, 20, 21]),
        st.integers(-10 * 60, 10 * 60),
    )


def instants_for(phone: str, state: str | None = None) -> st.SearchStrategy[datetime]:
    zones = locate(phone, state).zones or ("America/New_York",)
    return st.one_of(plain_instants, near_dst_changes, near_window_edges(zones))


instants = st.one_of(plain_instants, near_dst_changes, near_window_edges(ZONES))
windows = st.one_of(
    st.none(),
    st.tuples(st.integers(7, 12), st.integers(4, 10)).map(
        lambda pair: (time(pair[0]), time(min(pair[0] + pair[1], 23)))
    ),
    st.tuples(st.integers(0, 22 * 60), st.integers(30, 12 * 60)).map(
        lambda pair: (
            time(*divmod(pair[0], 60)),
            time(*divmod(min(pair[0] + pair[1], 24 * 60 - 1), 60)),
        )
    ),
)
weekday_sets = st.one_of(st.none(), st.frozensets(st.integers(0, 6), min_size=1))


@st.composite
def scenarios(draw) -> tuple[Facts, datetime]:
    purpose = draw(st.sampled_from(["informational", "survey", "telemarketing"]))
    phone = f"+1{draw(st.sampled_from(AREA_CODES))}{draw(st.integers(2_000_000, 9_999_999))}"
    state = draw(st.one_of(st.none(), st.none(), st.sampled_from(STATES_ON_FILE)))
    at = draw(instants_for(phone, state))
    attempt_ages = draw(st.lists(st.integers(0, 30 * 3600), max_size=4))
    facts = Facts(
        phone=phone,
        purpose=purpose,
        consent="express_written",
        seller_named=True,
        national_dnc_synced_at=at - timedelta(hours=draw(st.integers(0, 48))),
        state=state,
        attempts=tuple(at - timedelta(seconds=age) for age in attempt_ages),
        window=draw(windows),
        weekdays=draw(weekday_sets),
        caller_id_owned=True,
        holiday_overrides=draw(
            st.one_of(st.just({}), st.builds(lambda day: {"LA": [day]}, st.just(at.date())))
        ),
    )
    return facts, at


@cache
def legal_holidays(state: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", subdiv=state, years=year))


def is_holiday(state: str, day: date, facts: Facts) -> bool:
    row = RULES["states"].get(state, {})
    calendar = row.get("holiday_calendar", {})
    return (
        day in legal_holidays(state, day.year)
        or f"{day.month:02d}-{day.day:02d}" in calendar.get("extra_month_days", [])
        or day.isoformat() in calendar.get("declared_days", [])
        or day in facts.holiday_overrides.get(state, [])
    )


def hours_of(state: str, facts: Facts) -> dict:
    row = RULES["states"].get(state)
    if row is None or not row["checked"]:
        return RULES["fallback"]["hours"]
    if facts.consent != "none" and "hours_with_consent" in row:
        return row["hours_with_consent"]
    return row["hours"]


def span_on(hours: dict, day: date, holiday: bool) -> list[tuple[time, time]] | None:
    weekday_class = ("weekday",) * 5 + ("saturday", "sunday")
    spans = [hours[weekday_class[day.weekday()]]]
    if holiday and "holiday" in hours:
        spans.append(hours["holiday"])
    if any(span is None for span in spans):
        return None
    return [(time.fromisoformat(opens), time.fromisoformat(closes)) for opens, closes in spans]


def guarded_contains(local: datetime, opens: time, closes: time) -> bool:
    day, tz = local.date(), local.tzinfo
    wall = local.replace(tzinfo=None)
    return (
        datetime.combine(day, opens) + GUARD_OPEN
        <= wall
        < datetime.combine(day, closes) - GUARD_CLOSE
    ) and tz is not None


def oracle_allows_window(facts: Facts, at: datetime, zones, states) -> bool:
    """Every zone's wall clock inside every state's guarded hours and the campaign's."""
    for zone in zones:
        local = at.astimezone(ZoneInfo(zone))
        if not time(8) <= local.time() < time(21):
            return False
        if facts.weekdays is not None and local.weekday() not in facts.weekdays:
            return False
        if facts.window is not None and not guarded_contains(local, *facts.window):
            return False
        for state in states:
            spans = span_on(
                hours_of(state, facts), local.date(), is_holiday(state, local.date(), facts)
            )
            if spans is None:
                return False
            if not all(guarded_contains(local, opens, closes) for opens, closes in spans):
                return False
    return True


def combined(results):
    for result in results:
        if result.verdict == "deny":
            return "deny", result.reason
    deferring = [result for result in results if result.verdict == "defer"]
    if deferring:
        return "defer", deferring[0].reason
    return "allow", None


PROPERTY_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(scenarios())
def test_it_allows_only_inside_every_window_of_every_zone_and_state(scenario):
    facts, at = scenario

    decision = evaluate(facts, at)

    if decision.verdict == "allow":
        assert decision.zones
        assert decision.states
        assert oracle_allows_window(facts, at, decision.zones, decision.states)


@PROPERTY_SETTINGS
@given(scenarios())
def test_it_never_allows_a_call_between_nine_at_night_and_eight_in_the_morning(scenario):
    facts, at = scenario

    decision = evaluate(facts, at)

    if decision.verdict == "allow":
        for zone in decision.zones:
            assert time(8) <= at.astimezone(ZoneInfo(zone)).time() < time(21)


@PROPERTY_SETTINGS
@given(scenarios())
def test_it_defers_to_the_exact_earliest_instant_at_which_every_rule_allows(scenario):
    facts, at = scenario

    decision = evaluate(facts, at)

    if decision.verdict == "defer":
        later = decision.next_allowed_at
        assert later > at
        assert later - at <= timedelta(days=366)
        at_next = evaluate(facts, later)
        registry_age = later - facts.national_dnc_synced_at
        if at_next.reason == "stale_registry":
            assert registry_age > timedelta(days=31)
        else:
            assert at_next.verdict == "allow"
            assert oracle_allows_window(facts, later, at_next.zones, at_next.states)
        assert evaluate(facts, later - ONE_MICROSECOND).verdict != "allow"


@PROPERTY_SETTINGS
@given(scenarios())
def test_it_decides_as_the_combination_of_its_explanation(scenario):
    facts, at = scenario

    decision = evaluate(facts, at)
    results = explain(facts, at)

    assert (decision.verdict, decision.reason) == combined(results)
    if decision.verdict == "defer":
        assert results[-1].name == "common_instant"
        assert decision.next_allowed_at == results[-1].next_allowed_at


@st.composite
def single_numbers(draw) -> tuple[str, datetime]:
    phone = f"+1{draw(st.sampled_from(AREA_CODES[:-4]))}5550123"
    return phone, draw(instants_for(phone))


@settings(max_examples=200, deadline=None)
@given(single_numbers())
def test_it_keeps_the_engine_window_equal_to_the_wall_clock_oracle(number_and_instant):
    # With no campaign window, caps or history, allow must mean exactly "the oracle allows".
    phone, at = number_and_instant
    facts = Facts(
        phone=phone,
        purpose="informational",
        consent="express",
        caller_id_owned=True,
    )

    decision = evaluate(facts, at)

    assert decision.verdict in ("allow", "defer")
    assert (decision.verdict == "allow") == oracle_allows_window(
        facts, at, decision.zones, decision.states
    )
