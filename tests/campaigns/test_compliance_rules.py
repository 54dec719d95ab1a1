"""Consent, lists, registries, caps, campaign window, health, caller ID and budget."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from campaigns.compliance import Abandonment, Facts, InvalidFacts, evaluate, explain

NEW_YORK = ZoneInfo("America/New_York")
# Monday, June 1 2026, 10:00 in New York: inside every window of a 212 number.
MONDAY_TEN = datetime(2026, 6, 1, 10, 0, tzinfo=NEW_YORK)
NEW_YORK_PHONE = "+12125550123"


def callable_facts(**overrides) -> Facts:
    values = {
        "phone": NEW_YORK_PHONE,
        "purpose": "informational",
        "consent": "express",
        "caller_id_owned": True,
    }
    values.update(overrides)
    return Facts(**values)


def telemarketing_facts(**overrides) -> Facts:
    values = {
        "purpose": "telemarketing",
        "consent": "express_written",
        "seller_named": True,
        "national_dnc_synced_at": MONDAY_TEN - timedelta(days=2),
    }
    values.update(overrides)
    return callable_facts(**values)


def test_it_allows_the_contract_example_inside_hours():
    facts = Facts(
        phone="+13055550123",
        purpose="informational",
        consent="express",
        consent_revoked=False,
        suppressed=False,
        national_dnc=False,
        national_dnc_synced_at=None,
        state_dnc=False,
        state=None,
        postal_code=None,
        attempts=(),
        window=None,
        weekdays=None,
        caller_id_owned=True,
    )

    decision = evaluate(facts, at=MONDAY_TEN)

    assert decision.verdict == "allow"
    assert decision.reason is None
    assert decision.next_allowed_at is None
    assert decision.zones == ("America/New_York",)
    assert decision.states == ("FL",)


@pytest.mark.parametrize(
    ("purpose", "consent", "seller_named", "verdict"),
    [
        ("informational", "none", False, "deny"),
        ("informational", "express", False, "allow"),
        ("informational", "express_written", False, "allow"),
        ("survey", "none", False, "deny"),
        ("survey", "express", False, "allow"),
        ("telemarketing", "express", True, "deny"),
        ("telemarketing", "express_written", False, "deny"),
        ("telemarketing", "express_written", True, "allow"),
    ],
)
def test_it_requires_the_consent_the_purpose_needs(purpose, consent, seller_named, verdict):
    facts = telemarketing_facts(purpose=purpose, consent=consent, seller_named=seller_named)

    decision = evaluate(facts, MONDAY_TEN)

    assert decision.verdict == verdict
    assert decision.reason == (None if verdict == "allow" else "no_consent")


def test_it_fails_closed_when_consent_and_caller_id_are_not_given():
    decision = evaluate(Facts(phone=NEW_YORK_PHONE, purpose="survey"), MONDAY_TEN)

    assert decision.reason == "no_consent"


def test_it_denies_a_revoked_consent():
    decision = evaluate(callable_facts(consent_revoked=True), MONDAY_TEN)

    assert decision.verdict == "deny"
    assert decision.reason == "consent_revoked"


def test_it_denies_a_suppressed_number_for_every_purpose():
    for facts in (callable_facts(suppressed=True), telemarketing_facts(suppressed=True)):
        decision = evaluate(facts, MONDAY_TEN)

        assert decision.verdict == "deny"
        assert decision.reason == "suppressed"


def test_it_accepts_a_national_registry_copy_exactly_31_days_old():
    facts = telemarketing_facts(national_dnc_synced_at=MONDAY_TEN - timedelta(days=31))

    assert evaluate(facts, MONDAY_TEN).verdict == "allow"


def test_it_denies_telemarketing_on_a_registry_copy_older_than_31_days():
    stale = MONDAY_TEN - timedelta(days=31, seconds=1)

    decision = evaluate(telemarketing_facts(national_dnc_synced_at=stale), MONDAY_TEN)
    never = evaluate(telemarketing_facts(national_dnc_synced_at=None), MONDAY_TEN)

    assert decision.verdict == "deny"
    assert decision.reason == "stale_registry"
    assert never.reason == "stale_registry"


def test_it_ignores_the_registries_for_calls_that_are_not_telemarketing():
    facts = callable_facts(national_dnc=True, state_dnc=True, national_dnc_synced_at=None)

    assert evaluate(facts, MONDAY_TEN).verdict == "allow"


def test_it_allows_a_listed_number_only_with_written_consent_naming_the_seller():
    listed = telemarketing_facts(national_dnc=True, state_dnc=True)
    seller_not_named = replace(listed, seller_named=False)

    by_rule = {result.name: result for result in explain(seller_not_named, MONDAY_TEN)}

    assert evaluate(listed, MONDAY_TEN).verdict == "allow"
    assert by_rule["national_dnc"].reason == "national_dnc"
    assert by_rule["state_dnc"].reason == "state_dnc"
    assert evaluate(seller_not_named, MONDAY_TEN).reason == "no_consent"


def test_it_defers_the_fourth_attempt_in_24_hours_to_when_the_first_leaves_the_window():
    first = MONDAY_TEN - timedelta(hours=23)
    attempts = (first, first + timedelta(hours=4), first + timedelta(hours=8))

    decision = evaluate(callable_facts(attempts=attempts), MONDAY_TEN)

    assert decision.verdict == "defer"
    assert decision.reason == "frequency_cap"
    assert decision.next_allowed_at == first + timedelta(hours=24)
    assert (
        evaluate(callable_facts(attempts=attempts), first + timedelta(hours=24)).verdict == "allow"
    )


def test_it_allows_a_third_attempt_and_forgets_attempts_older_than_24_hours():
    recent = (MONDAY_TEN - timedelta(hours=2), MONDAY_TEN - timedelta(hours=1))
    old = (MONDAY_TEN - timedelta(hours=24), MONDAY_TEN - timedelta(hours=30))

    assert evaluate(callable_facts(attempts=recent + old), MONDAY_TEN).verdict == "allow"


def test_it_moves_a_capped_call_that_clears_at_night_to_the_next_morning():
    # The first attempt leaves the window at 22:00, after hours: the call waits for the
    # next opening, 09:01 (New York is unchecked, so the fallback profile applies).
    first = datetime(2026, 6, 1, 22, 0, tzinfo=NEW_YORK) - timedelta(hours=24)
    attempts = (first, first + timedelta(minutes=10), first + timedelta(minutes=20))

    decision = evaluate(
        callable_facts(attempts=attempts), datetime(2026, 6, 1, 12, 0, tzinfo=NEW_YORK)
    )

    assert decision.reason == "frequency_cap"
    assert decision.next_allowed_at == datetime(2026, 6, 2, 9, 1, tzinfo=NEW_YORK)


def test_it_defers_outside_the_campaign_window_to_its_next_opening():
    facts = callable_facts(window=(time(10, 0), time(16, 0)), weekdays={0, 1, 2, 3, 4})
    friday_evening = datetime(2026, 6, 5, 16, 0, tzinfo=NEW_YORK)

    decision = evaluate(facts, friday_evening)

    assert decision.verdict == "defer"
    assert decision.reason == "campaign_window"
    assert decision.next_allowed_at == datetime(2026, 6, 8, 10, 1, tzinfo=NEW_YORK)
    assert evaluate(facts, datetime(2026, 6, 5, 15, 54, tzinfo=NEW_YORK)).verdict == "allow"


def test_it_never_widens_the_legal_window_with_the_campaign_window():
    facts = callable_facts(window=(time(6, 0), time(23, 0)))

    decision = evaluate(facts, datetime(2026, 6, 1, 7, 0, tzinfo=NEW_YORK))

    assert decision.reason == "outside_hours"
    assert decision.next_allowed_at == datetime(2026, 6, 1, 9, 1, tzinfo=NEW_YORK)


def test_it_finds_the_instant_every_window_allows_when_they_alternate():
    # The campaign calls 19:00-22:00 on Saturdays only; the number is in Mississippi
    # (08:00-20:00, no Sundays). The common window is Saturday 19:01-19:55.
    chicago = ZoneInfo("America/Chicago")
    facts = callable_facts(phone="+16015550123", window=(time(19, 0), time(22, 0)), weekdays={5})

    decision = evaluate(facts, datetime(2026, 6, 1, 12, 0, tzinfo=chicago))

    assert decision.reason == "campaign_window"
    assert decision.next_allowed_at == datetime(2026, 6, 6, 19, 1, tzinfo=chicago)


def test_it_denies_when_no_instant_within_a_year_satisfies_every_window():
    facts = callable_facts(phone="+16015550123", weekdays={6})

    decision = evaluate(facts, datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("America/Chicago")))

    assert decision.verdict == "deny"
    assert decision.reason == "campaign_window"
    assert "no instant within 366 days" in decision.detail


def test_it_stops_dialing_while_abandonment_is_above_the_threshold_until_it_can_fall():
    recovers_at = MONDAY_TEN + timedelta(days=3)
    abandonment = Abandonment(
        answered=40, abandoned=1, pause_percent=Decimal("2"), recovers_at=recovers_at
    )

    decision = evaluate(callable_facts(abandonment=abandonment), MONDAY_TEN)

    assert decision.verdict == "defer"
    assert decision.reason == "abandon_rate"
    # The campaign's window (none here) and the hours: the first lawful instant from then.
    assert decision.next_allowed_at == recovers_at
    assert "1 of the campaign's 40 calls answered by a person" in decision.detail
    assert "2.5 %, above the 2 % at which dialing stops" in decision.detail


def test_it_allows_abandonment_at_or_below_the_threshold():
    at_threshold = Abandonment(answered=50, abandoned=1, pause_percent=Decimal("2"))
    none_abandoned = Abandonment(answered=3, abandoned=0, pause_percent=Decimal("2"))

    assert evaluate(callable_facts(abandonment=at_threshold), MONDAY_TEN).is_allowed
    assert evaluate(callable_facts(abandonment=none_abandoned), MONDAY_TEN).is_allowed
    assert evaluate(callable_facts(abandonment=None), MONDAY_TEN).is_allowed


def test_it_denies_a_caller_id_the_organisation_does_not_own():
    decision = evaluate(callable_facts(caller_id_owned=False), MONDAY_TEN)

    assert decision.verdict == "deny"
    assert decision.reason == "bad_caller_id"


def test_it_prefers_a_deny_to_an_earlier_rule_that_only_defers():
    night = datetime(2026, 6, 1, 23, 0, tzinfo=NEW_YORK)

    decision = evaluate(callable_facts(caller_id_owned=False), night)

    assert decision.verdict == "deny"
    assert decision.reason == "bad_caller_id"


def test_it_defers_an_over_budget_call_to_the_reset_then_to_the_window():
    resets_at = datetime(2026, 6, 2, 0, 0, tzinfo=NEW_YORK)
    facts = callable_facts(over_budget=True, budget_resets_at=resets_at)

    decision = evaluate(facts, MONDAY_TEN)

    assert decision.reason == "over_budget"
    assert decision.next_allowed_at == datetime(2026, 6, 2, 9, 1, tzinfo=NEW_YORK)


def test_it_defers_an_over_budget_call_with_no_known_reset_without_an_instant():
    decision = evaluate(callable_facts(over_budget=True), MONDAY_TEN)

    assert decision.verdict == "defer"
    assert decision.reason == "over_budget"
    assert decision.next_allowed_at is None


def test_it_reports_the_first_deferring_rule_and_the_instant_every_rule_allows():
    first = datetime(2026, 6, 1, 20, 0, tzinfo=NEW_YORK) - timedelta(hours=24)
    attempts = (first, first, first)
    night = datetime(2026, 6, 1, 19, 0, tzinfo=NEW_YORK)

    decision = evaluate(callable_facts(attempts=attempts), night)

    assert decision.reason == "frequency_cap"
    assert decision.next_allowed_at == datetime(2026, 6, 2, 9, 1, tzinfo=NEW_YORK)


def test_it_explains_every_rule_by_name_in_order():
    names = [result.name for result in explain(callable_facts(), MONDAY_TEN)]

    assert names == [
        "consent",
        "revocation",
        "suppression",
        "registry_age",
        "national_dnc",
        "state_dnc",
        "frequency_cap",
        "location",
        "calling_hours",
        "campaign_window",
        "campaign_health",
        "caller_id",
        "budget",
    ]


def test_it_explains_each_rule_on_its_own_even_when_an_earlier_one_denies():
    night = datetime(2026, 6, 1, 23, 0, tzinfo=NEW_YORK)
    by_rule = {
        result.name: result
        for result in explain(callable_facts(consent="none", suppressed=True), night)
    }

    assert by_rule["consent"].reason == "no_consent"
    assert by_rule["suppression"].reason == "suppressed"
    assert by_rule["calling_hours"].verdict == "defer"
    assert by_rule["calling_hours"].next_allowed_at == datetime(2026, 6, 2, 9, 1, tzinfo=NEW_YORK)
    assert "America/New_York" in by_rule["calling_hours"].detail
    assert evaluate(callable_facts(consent="none", suppressed=True), night).reason == "no_consent"


def test_it_explains_the_common_instant_when_rules_defer():
    night = datetime(2026, 6, 1, 23, 0, tzinfo=NEW_YORK)

    last = explain(callable_facts(), night)[-1]

    assert last.name == "common_instant"
    assert last.verdict == "defer"
    assert last.next_allowed_at == datetime(2026, 6, 2, 9, 1, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    "overrides",
    [
        {"purpose": "marketing"},
        {"consent": "implied"},
        {"attempts": (datetime(2026, 6, 1, 9, 0),)},
        {"national_dnc_synced_at": datetime(2026, 6, 1)},
        {"window": (time(17, 0), time(9, 0))},
        {"weekdays": {7}},
        {"holiday_overrides": {"LA": [datetime(2026, 6, 1, tzinfo=NEW_YORK)]}},
    ],
)
def test_it_rejects_facts_no_real_call_has(overrides):
    with pytest.raises(InvalidFacts):
        callable_facts(**overrides)


def test_it_rejects_a_naive_instant():
    with pytest.raises(InvalidFacts):
        evaluate(callable_facts(), datetime(2026, 6, 1, 10, 0))


def test_it_reads_holiday_overrides_case_insensitively():
    facts = callable_facts(phone="+15045550123", holiday_overrides={"la": [date(2026, 6, 3)]})

    decision = evaluate(facts, datetime(2026, 6, 3, 12, 0, tzinfo=ZoneInfo("America/Chicago")))

    assert decision.reason == "holiday"
