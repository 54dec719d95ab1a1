"""The calling window for every state row of docs/compliance.md, read from a clock on the wall.

Expected hours here are written out by hand from the state rows of docs/compliance.md and
the statutes they cite, not read from the rule data, so a wrong row in the data fails a test.
Guard bands: a window opens 1 minute late and closes 5 minutes early.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.compliance import evaluate, explain, load_ruleset
from tests.campaigns.compliance_facts import callable_facts

ONE_MICROSECOND = timedelta(microseconds=1)
NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")


def local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


# A Wednesday (and the Thursday after it), a Saturday and a Sunday with no holiday in any
# state. (June 11 is Kamehameha Day in Hawaii.)
WEDNESDAY = date(2026, 6, 3)
SATURDAY = date(2026, 6, 13)
SUNDAY = date(2026, 6, 14)

# state, a single-zone area code in it, its zone, weekday opening and closing hour.
WEEKDAY_HOURS = [
    ("FL", "+1305", "America/New_York", (8, 0), (20, 0)),
    ("OK", "+1405", "America/Chicago", (9, 0), (20, 0)),
    ("MD", "+1410", "America/New_York", (8, 0), (20, 0)),
    ("WA", "+1206", "America/Los_Angeles", (8, 0), (20, 0)),
    ("CT", "+1860", "America/New_York", (9, 0), (20, 0)),
    ("TX", "+1512", "America/Chicago", (9, 0), (21, 0)),
    ("MS", "+1601", "America/Chicago", (8, 0), (20, 0)),
    ("LA", "+1504", "America/Chicago", (8, 0), (20, 0)),
    ("AL", "+1205", "America/Chicago", (8, 0), (20, 0)),
    ("PA", "+1215", "America/New_York", (8, 0), (21, 0)),
    ("UT", "+1801", "America/Denver", (8, 0), (21, 0)),
    ("RI", "+1401", "America/New_York", (9, 0), (18, 0)),
    ("KY", "+1502", "America/New_York", (10, 0), (21, 0)),
    ("IL", "+1312", "America/Chicago", (9, 0), (21, 0)),
    ("MA", "+1617", "America/New_York", (8, 0), (20, 0)),
    ("MI", "+1313", "America/New_York", (9, 0), (21, 0)),
    ("MN", "+1612", "America/Chicago", (9, 0), (21, 0)),
    ("NV", "+1702", "America/Los_Angeles", (9, 0), (20, 0)),
    ("NM", "+1505", "America/Denver", (9, 0), (21, 0)),
    ("NE", "+1402", "America/Chicago", (8, 0), (21, 0)),
    # Unchecked states get the fallback profile 09:00-20:00.
    ("GA", "+1404", "America/New_York", (9, 0), (20, 0)),
    ("NY", "+1212", "America/New_York", (9, 0), (20, 0)),
    ("CA", "+1213", "America/Los_Angeles", (9, 0), (20, 0)),
    ("CO", "+1303", "America/Denver", (9, 0), (20, 0)),
    ("HI", "+1808", "Pacific/Honolulu", (9, 0), (20, 0)),
    ("AZ", "+1602", "America/Phoenix", (9, 0), (20, 0)),
]


@pytest.mark.parametrize(("state", "prefix", "zone_name", "opens", "closes"), WEEKDAY_HOURS)
def test_it_calls_on_a_weekday_only_inside_the_guarded_state_hours(
    state, prefix, zone_name, opens, closes
):
    zone = ZoneInfo(zone_name)
    facts = callable_facts(f"{prefix}2345678")
    first_allowed = local(WEDNESDAY, *opens, zone) + timedelta(minutes=1)
    first_refused = local(WEDNESDAY, *closes, zone) - timedelta(minutes=5)

    assert evaluate(facts, first_allowed).verdict == "allow"
    assert evaluate(facts, first_refused - ONE_MICROSECOND).verdict == "allow"
    early = evaluate(facts, first_allowed - ONE_MICROSECOND)
    assert early.verdict == "defer"
    assert early.reason == "outside_hours"
    assert early.next_allowed_at == first_allowed
    assert early.states == (state,)
    late = evaluate(facts, first_refused)
    assert late.verdict == "defer"
    assert late.reason == "outside_hours"
    assert late.next_allowed_at == first_allowed + timedelta(days=1)


def test_it_opens_texas_at_noon_on_sunday():
    facts = callable_facts("+15122345678")

    morning = evaluate(facts, local(SUNDAY, 10, 0, CHICAGO))

    assert morning.verdict == "defer"
    assert morning.reason == "outside_hours"
    assert morning.next_allowed_at == local(SUNDAY, 12, 1, CHICAGO)
    assert evaluate(facts, local(SUNDAY, 12, 1, CHICAGO)).verdict == "allow"
    assert evaluate(facts, local(SATURDAY, 9, 1, CHICAGO)).verdict == "allow"


@pytest.mark.parametrize(
    ("prefix", "zone_name", "monday_opens"),
    [
        ("+1601", "America/Chicago", (8, 1)),  # Mississippi
        ("+1504", "America/Chicago", (8, 1)),  # Louisiana
        ("+1205", "America/Chicago", (8, 1)),  # Alabama
        ("+1404", "America/New_York", (9, 1)),  # Georgia, fallback profile
    ],
)
def test_it_never_calls_on_sunday_where_the_state_bans_sundays(prefix, zone_name, monday_opens):
    zone = ZoneInfo(zone_name)
    facts = callable_facts(f"{prefix}2345678")

    decision = evaluate(facts, local(SUNDAY, 14, 0, zone))

    assert decision.verdict == "defer"
    assert decision.reason == "day_not_allowed"
    assert decision.next_allowed_at == local(SUNDAY + timedelta(days=1), *monday_opens, zone)


@pytest.mark.parametrize(
    ("prefix", "zone_name"),
    [("+1512", "America/Chicago"), ("+1215", "America/New_York"), ("+1801", "America/Denver")],
)
def test_it_calls_on_sunday_where_the_state_allows_it(prefix, zone_name):
    facts = callable_facts(f"{prefix}2345678")

    assert evaluate(facts, local(SUNDAY, 14, 0, ZoneInfo(zone_name))).verdict == "allow"


@pytest.mark.parametrize(
    ("prefix", "zone_name", "saturday_allowed"),
    [
        ("+1401", "America/New_York", False),  # Rhode Island: weekdays only until verified
        ("+1701", "America/Chicago", True),  # North Dakota, unchecked: fallback allows Saturday
    ],
)
def test_it_applies_saturday_rules(prefix, zone_name, saturday_allowed):
    facts = callable_facts(f"{prefix}2345678")

    decision = evaluate(facts, local(SATURDAY, 14, 0, ZoneInfo(zone_name)))

    assert (decision.verdict == "allow") is saturday_allowed
    if not saturday_allowed:
        assert decision.reason == "day_not_allowed"


def test_it_calls_south_dakota_only_on_weekdays_in_every_zone_of_605():
    facts = callable_facts("+16052345678")
    denver, central = ZoneInfo("America/Denver"), ZoneInfo("America/North_Dakota/Center")

    saturday = evaluate(facts, local(SATURDAY, 14, 0, denver))
    weekday_early = evaluate(facts, local(WEDNESDAY, 9, 30, central))

    assert saturday.reason == "day_not_allowed"
    assert saturday.next_allowed_at == local(SATURDAY + timedelta(days=2), 9, 1, denver)
    assert weekday_early.reason == "outside_hours"
    assert weekday_early.next_allowed_at == local(WEDNESDAY, 9, 1, denver)
    assert evaluate(facts, local(WEDNESDAY, 20, 54, central)).verdict == "allow"
    assert evaluate(facts, local(WEDNESDAY, 20, 55, central)).verdict == "defer"


def test_it_opens_nebraska_at_one_on_sunday():
    facts = callable_facts("+14022345678")

    decision = evaluate(facts, local(SUNDAY, 10, 0, CHICAGO))

    assert decision.reason == "outside_hours"
    assert decision.next_allowed_at == local(SUNDAY, 13, 1, CHICAGO)


@pytest.mark.parametrize(
    ("prefix", "zone_name", "holiday", "next_open"),
    [
        # Pennsylvania: Thanksgiving and the day after are both legal holidays.
        ("+1215", "America/New_York", date(2026, 11, 26), datetime(2026, 11, 28, 8, 1)),
        # Louisiana: Mardi Gras.
        ("+1504", "America/Chicago", date(2026, 2, 17), datetime(2026, 2, 18, 8, 1)),
        # Alabama: Independence Day observed on Friday; Saturday is the day itself, then Sunday.
        ("+1205", "America/Chicago", date(2026, 7, 3), datetime(2026, 7, 6, 8, 1)),
        # Rhode Island: Victory Day (second Monday of August) and May 4.
        ("+1401", "America/New_York", date(2026, 8, 10), datetime(2026, 8, 11, 9, 1)),
        ("+1401", "America/New_York", date(2026, 5, 4), datetime(2026, 5, 5, 9, 1)),
        # Unchecked state: the fallback profile bans holidays (Georgia, Labor Day).
        ("+1404", "America/New_York", date(2026, 9, 7), datetime(2026, 9, 8, 9, 1)),
    ],
)
def test_it_never_calls_on_a_legal_holiday_where_the_state_bans_them(
    prefix, zone_name, holiday, next_open
):
    zone = ZoneInfo(zone_name)
    facts = callable_facts(f"{prefix}2345678")

    decision = evaluate(facts, local(holiday, 12, 0, zone))

    assert decision.verdict == "defer"
    assert decision.reason == "holiday"
    assert decision.next_allowed_at == next_open.replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("prefix", "zone_name", "holiday"),
    [
        ("+1512", "America/Chicago", date(2026, 7, 3)),  # Texas: holidays are ordinary days
        ("+1601", "America/Chicago", date(2026, 5, 25)),  # Mississippi: holiday ban repealed
        ("+1801", "America/Denver", date(2026, 7, 24)),  # Utah with consent: Pioneer Day
    ],
)
def test_it_calls_on_a_holiday_where_the_state_allows_it(prefix, zone_name, holiday):
    facts = callable_facts(f"{prefix}2345678")

    assert evaluate(facts, local(holiday, 12, 0, ZoneInfo(zone_name))).verdict == "allow"


def test_it_bans_utah_sundays_and_holidays_only_without_consent():
    denver = ZoneInfo("America/Denver")
    without_consent = callable_facts("+18012345678", consent="none")

    by_rule = {
        result.name: result for result in explain(without_consent, local(SUNDAY, 12, 0, denver))
    }
    pioneer_day = {
        result.name: result
        for result in explain(without_consent, local(date(2026, 7, 24), 12, 0, denver))
    }

    assert by_rule["consent"].reason == "no_consent"
    assert by_rule["calling_hours"].reason == "day_not_allowed"
    assert pioneer_day["calling_hours"].reason == "holiday"


def test_it_treats_a_declared_day_as_a_holiday_in_that_state_only():
    declared = {"LA": [WEDNESDAY]}
    louisiana = callable_facts("+15042345678", holiday_overrides=declared)
    texas = callable_facts("+15122345678", holiday_overrides=declared)

    decision = evaluate(louisiana, local(WEDNESDAY, 12, 0, CHICAGO))

    assert decision.reason == "holiday"
    assert decision.next_allowed_at == local(WEDNESDAY + timedelta(days=1), 8, 1, CHICAGO)
    assert evaluate(texas, local(WEDNESDAY, 12, 0, CHICAGO)).verdict == "allow"


def test_it_keeps_the_governor_declared_day_in_the_rule_data():
    decision = evaluate(callable_facts("+15042345678"), local(date(2023, 7, 3), 12, 0, CHICAGO))

    assert decision.reason == "holiday"


def test_it_applies_the_state_on_file_and_the_area_code_state_together():
    # A Texas area code, a Florida address: Texas's Sunday noon start and Florida's 20:00
    # end, in Central (Texas number) and both Florida zones.
    facts = callable_facts("+15122345678", state="FL")

    decision = evaluate(facts, local(SUNDAY, 11, 0, NEW_YORK))

    assert decision.states == ("FL", "TX")
    assert decision.zones == ("America/Chicago", "America/New_York")
    assert decision.next_allowed_at == local(SUNDAY, 12, 1, CHICAGO)
    assert evaluate(facts, local(SUNDAY, 19, 54, NEW_YORK)).verdict == "allow"
    assert evaluate(facts, local(SUNDAY, 19, 55, NEW_YORK)).verdict == "defer"


def test_it_names_the_rule_set_version_on_every_decision():
    decision = evaluate(callable_facts("+13052345678"), local(WEDNESDAY, 12, 0, NEW_YORK))

    assert decision.ruleset == "us-2026-11-01"


def test_it_records_source_confidence_and_verification_for_every_state_row():
    ruleset = load_ruleset()

    assert set(ruleset.states) >= {"FL", "OK", "MD", "WA", "CT", "TX", "MS", "LA", "AL", "PA"}
    for row in ruleset.states.values():
        assert row.source
        assert row.confidence
        assert row.last_verified is not None
        assert row.hours_bind == {"informational", "survey", "telemarketing"}


def test_it_gives_unchecked_rows_the_fallback_profile():
    ruleset = load_ruleset()

    assert not ruleset.row("GA").is_checked
    assert ruleset.row("GA").hours == ruleset.fallback
    assert ruleset.row("CA").hours == ruleset.fallback
    assert ruleset.fallback.sunday is None


def test_it_reaches_the_first_allowed_instant_after_a_long_holiday_run_across_midnight_utc():
    # Pennsylvania after 20:55 on the Wednesday before Thanksgiving: Thursday and Friday
    # are holidays, so the next call is Saturday 08:01 Eastern.
    facts = callable_facts("+12152345678")

    decision = evaluate(facts, datetime(2026, 11, 26, 2, 0, tzinfo=UTC))

    assert decision.reason == "outside_hours"
    assert decision.next_allowed_at == datetime(2026, 11, 28, 8, 1, tzinfo=NEW_YORK)
