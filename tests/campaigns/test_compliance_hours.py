"""Next allowed instants across DST changes, in one zone and across zones."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from campaigns.compliance import evaluate
from tests.campaigns.compliance_facts import callable_facts

NEW_YORK = ZoneInfo("America/New_York")
PHOENIX = ZoneInfo("America/Phoenix")
DENVER = ZoneInfo("America/Denver")
# A Miami number: Florida allows Sundays, 08:00-20:00, so DST Sundays can be tested.
MIAMI_PHONE = "+13055550123"


def test_it_opens_at_local_eight_on_the_morning_clocks_spring_forward():
    # March 8, 2026: New York moves from UTC-5 to UTC-4 at 07:00 UTC.
    decision = evaluate(callable_facts(MIAMI_PHONE), datetime(2026, 3, 8, 11, 0, tzinfo=UTC))

    assert decision.next_allowed_at == datetime(2026, 3, 8, 12, 1, tzinfo=UTC)


def test_it_counts_the_short_night_before_spring_forward_on_the_wall_clock():
    saturday_evening = datetime(2026, 3, 7, 20, 0, tzinfo=NEW_YORK)

    decision = evaluate(callable_facts(MIAMI_PHONE), saturday_evening)

    assert decision.next_allowed_at == datetime(2026, 3, 8, 8, 1, tzinfo=NEW_YORK)
    assert decision.next_allowed_at == datetime(2026, 3, 8, 12, 1, tzinfo=UTC)


def test_it_opens_at_local_eight_on_the_morning_clocks_fall_back():
    # November 1, 2026: New York moves from UTC-4 to UTC-5 at 06:00 UTC.
    decision = evaluate(callable_facts(MIAMI_PHONE), datetime(2026, 11, 1, 12, 0, tzinfo=UTC))

    assert decision.next_allowed_at == datetime(2026, 11, 1, 13, 1, tzinfo=UTC)


def test_it_closes_at_local_time_on_the_evening_clocks_fall_back():
    closing = datetime(2026, 11, 1, 19, 55, tzinfo=NEW_YORK)

    assert closing.utcoffset().total_seconds() == -5 * 3600
    assert evaluate(callable_facts(MIAMI_PHONE), closing).verdict == "defer"
    assert evaluate(callable_facts(MIAMI_PHONE), closing.replace(minute=54)).verdict == "allow"


def test_it_narrows_a_navajo_number_when_denver_leaves_phoenix_behind():
    # 928 exchanges can be on Phoenix time (no DST) or Denver time. Before March 8 both
    # read the same clock; after it Denver is an hour ahead, so the window closes an
    # hour earlier on Phoenix clocks (fallback profile for Arizona: 09:00-20:00).
    facts = callable_facts("+19285550123")

    winter = evaluate(facts, datetime(2026, 3, 6, 19, 55, tzinfo=PHOENIX))
    summer_late = evaluate(facts, datetime(2026, 3, 9, 18, 55, tzinfo=PHOENIX))
    summer_early = evaluate(facts, datetime(2026, 3, 9, 18, 54, tzinfo=PHOENIX))

    assert winter.verdict == "defer"
    assert evaluate(facts, datetime(2026, 3, 6, 19, 54, tzinfo=PHOENIX)).verdict == "allow"
    assert summer_late.verdict == "defer"
    assert summer_late.next_allowed_at == datetime(2026, 3, 10, 9, 1, tzinfo=PHOENIX)
    assert summer_early.verdict == "allow"


def test_it_follows_a_campaign_window_on_the_local_clock_across_a_dst_change():
    facts = callable_facts(MIAMI_PHONE, window=(time(10, 0), time(12, 0)))

    decision = evaluate(facts, datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK))

    assert decision.reason == "campaign_window"
    assert decision.next_allowed_at == datetime(2026, 3, 8, 10, 1, tzinfo=NEW_YORK)
    assert decision.next_allowed_at == datetime(2026, 3, 8, 14, 1, tzinfo=UTC)


def test_it_intersects_zones_whose_clocks_change_on_different_dates():
    # A London number with a New York address: the US changes clocks on March 8, the UK on
    # March 29, so in between London is four hours ahead of New York, then five. New
    # York's fallback hours (09:01-19:55 guarded) hold on both clocks, so the window
    # closes at 19:55 London: 15:55 New York in between, 14:55 after.
    facts = callable_facts("+442079460123", state="NY")

    in_between = evaluate(facts, datetime(2026, 3, 20, 15, 55, tzinfo=NEW_YORK))
    after = evaluate(facts, datetime(2026, 4, 1, 14, 55, tzinfo=NEW_YORK))

    assert in_between.verdict == "defer"
    assert in_between.next_allowed_at == datetime(2026, 3, 21, 9, 1, tzinfo=NEW_YORK)
    assert evaluate(facts, datetime(2026, 3, 20, 15, 54, tzinfo=NEW_YORK)).verdict == "allow"
    assert after.verdict == "defer"
    assert evaluate(facts, datetime(2026, 4, 1, 14, 54, tzinfo=NEW_YORK)).verdict == "allow"
