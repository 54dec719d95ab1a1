"""Where the called party may be: candidate zones and states, and unknown locations."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.compliance import evaluate, locate
from tests.campaigns.compliance_facts import callable_facts

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
A_WEDNESDAY_NOON_EASTERN = datetime(2026, 6, 3, 12, 0, tzinfo=NEW_YORK)

# docs/compliance.md, rule 8 (location): area codes whose exchanges span zones.
SPLIT_AREA_CODES = [
    ("208", {"America/Boise", "America/Los_Angeles"}),
    ("219", {"America/Chicago", "America/New_York"}),
    ("270", {"America/Chicago", "America/New_York"}),
    ("308", {"America/Chicago", "America/Denver"}),
    ("423", {"America/Chicago", "America/New_York"}),
    ("541", {"America/Denver", "America/Los_Angeles"}),
    ("574", {"America/Chicago", "America/New_York"}),
    ("605", {"America/Chicago", "America/Denver"}),
    ("606", {"America/Chicago", "America/New_York"}),
    ("620", {"America/Chicago", "America/Denver"}),
    ("701", {"America/Chicago", "America/Denver"}),
    ("775", {"America/Denver", "America/Los_Angeles"}),
    ("785", {"America/Chicago", "America/Denver"}),
    ("812", {"America/Chicago", "America/New_York"}),
    ("850", {"America/Chicago", "America/New_York"}),
    ("906", {"America/Chicago", "America/New_York"}),
    ("907", {"America/Anchorage", "America/Adak"}),
    ("928", {"America/Denver", "America/Phoenix"}),
    ("986", {"America/Boise", "America/Los_Angeles"}),
]


@pytest.mark.parametrize(("area_code", "zones"), SPLIT_AREA_CODES)
def test_it_gives_every_zone_of_a_split_area_code(area_code, zones):
    location = locate(f"+1{area_code}5550123")

    assert zones <= set(location.zones)


def test_it_gives_an_850_number_both_central_and_eastern_even_where_the_library_says_eastern():
    # phonenumbers has no entry for 850-555 and falls back to America/New_York alone.
    decision = evaluate(callable_facts("+18505550123"), A_WEDNESDAY_NOON_EASTERN)

    assert decision.zones == ("America/Chicago", "America/New_York")
    assert decision.states == ("FL",)


def test_it_opens_an_850_number_at_nine_eastern_and_closes_it_at_seven_central():
    facts = callable_facts("+18505550123")
    day = A_WEDNESDAY_NOON_EASTERN.date()

    early = evaluate(facts, datetime.combine(day, time(8, 30), tzinfo=NEW_YORK))

    assert early.reason == "outside_hours"
    assert early.next_allowed_at == datetime.combine(day, time(8, 1), tzinfo=CHICAGO)
    assert evaluate(facts, datetime.combine(day, time(18, 54), tzinfo=CHICAGO)).verdict == "allow"
    assert evaluate(facts, datetime.combine(day, time(18, 55), tzinfo=CHICAGO)).verdict == "defer"


def test_it_keeps_a_single_zone_number_in_one_zone():
    assert locate("+12125550123").zones == ("America/New_York",)
    assert locate("+13055550123").zones == ("America/New_York",)
    assert locate("+16025550123").zones == ("America/Phoenix",)


@pytest.mark.parametrize(
    "phone",
    [
        "+18005550123",  # toll-free
        "+18885550123",  # toll-free
        "+15005550123",  # non-geographic
        "+1999",  # invalid
        "+11235550123",  # no such area code
        "555-0123",  # not E.164
        "not a number",
        "",
    ],
)
def test_it_denies_a_number_with_no_location(phone):
    decision = evaluate(callable_facts(phone), A_WEDNESDAY_NOON_EASTERN)

    assert decision.verdict == "deny"
    assert decision.reason == "unknown_location"
    assert decision.zones == ()


def test_it_calls_a_toll_free_number_in_the_zones_of_the_address_on_file():
    facts = callable_facts("+18005550123", state="NY")

    decision = evaluate(facts, A_WEDNESDAY_NOON_EASTERN)

    assert decision.verdict == "allow"
    assert decision.zones == ("America/New_York",)
    assert decision.states == ("NY",)


def test_it_adds_every_zone_of_the_state_on_file():
    location = locate("+12125550123", "TX", "79901")

    assert location.zones == ("America/Chicago", "America/Denver", "America/New_York")
    assert location.states == ("NY", "TX")


def test_it_reads_the_state_on_file_as_a_code_or_a_name():
    assert locate("+12125550123", "tx").states == ("NY", "TX")
    assert locate("+12125550123", " Texas ").states == ("NY", "TX")
    assert locate("+12125550123", "District of Columbia").states == ("DC", "NY")


def test_it_denies_a_state_on_file_that_is_not_a_us_state():
    decision = evaluate(callable_facts("+12125550123", state="XX"), A_WEDNESDAY_NOON_EASTERN)

    assert decision.reason == "unknown_location"


def test_it_denies_a_foreign_number_with_no_us_address():
    toronto = evaluate(callable_facts("+14165550123"), A_WEDNESDAY_NOON_EASTERN)
    london = evaluate(callable_facts("+442079460123"), A_WEDNESDAY_NOON_EASTERN)

    assert toronto.reason == "unknown_location"
    assert london.reason == "unknown_location"


def test_it_treats_territories_as_states_under_the_fallback_profile():
    facts = callable_facts("+17875550123")
    puerto_rico = ZoneInfo("America/Puerto_Rico")
    day = A_WEDNESDAY_NOON_EASTERN.date()

    decision = evaluate(facts, datetime.combine(day, time(8, 30), tzinfo=puerto_rico))

    assert decision.states == ("PR",)
    assert decision.zones == ("America/Puerto_Rico",)
    assert decision.next_allowed_at == datetime.combine(day, time(9, 1), tzinfo=puerto_rico)


def test_it_keeps_arizona_on_standard_time_while_navajo_exchanges_follow_denver():
    # 928 holds Navajo Nation exchanges on Denver time: in summer Denver is an hour
    # ahead of Phoenix, so the window opens at 09:01 Phoenix and closes at 19:55 Denver.
    facts = callable_facts("+19285550123")
    summer_day = datetime(2026, 7, 15, tzinfo=UTC).date()
    phoenix, denver = ZoneInfo("America/Phoenix"), ZoneInfo("America/Denver")

    early = evaluate(facts, datetime.combine(summer_day, time(8, 30), tzinfo=phoenix))

    assert early.next_allowed_at == datetime.combine(summer_day, time(9, 1), tzinfo=phoenix)
    closing = datetime.combine(summer_day, time(19, 55), tzinfo=denver)
    assert evaluate(facts, closing - timedelta(microseconds=1)).verdict == "allow"
    assert evaluate(facts, closing).verdict == "defer"
