"""The carrier account's limits through the running stack and the sandbox carrier: its
calls-per-second across two campaigns, measured at the carrier, and its lines shared by a
campaign and callers, with the inbound reserve."""

from decimal import Decimal

import pytest
from django.utils import timezone

from calls.models import Call, CallStatus, PhoneNumber
from campaigns.lifecycle import campaign_launch
from campaigns.models import Campaign, Organization, Target
from tests.calls.test_campaign_pacing import most_at_once, most_in_any_second
from tests.factories import (
    SANDBOX_CALLER_ID,
    CampaignFactory,
    ConsentFactory,
    ContactFactory,
    TargetFactory,
    persona_number,
    reminder_campaign,
)
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ACCOUNT_CALLS_PER_SECOND = 4
# Alone, each campaign's own rate fits the account; together (6 a second) they would not.
SLOW_CAMPAIGN_RATE, FAST_CAMPAIGN_RATE = 2, 4
TARGETS_EACH = 24


def short_call_personas(count: int, offset: int = 0) -> list[str]:
    """People who do not answer or are busy: short calls, so the rates, not the calls, bind."""
    return ["no_answer" if (index + offset) % 2 else "busy" for index in range(count)]


def campaign_beside(first: Campaign, personas: list[str], *, offset: int, **fields) -> Campaign:
    """A second campaign of the first one's organisation (so on the same carrier account)."""
    campaign = CampaignFactory(
        organization=first.organization, agent=first.agent, caller_id=first.caller_id, **fields
    )
    for index, persona in enumerate(personas, start=offset):
        contact = ContactFactory(
            organization=first.organization,
            phone=persona_number(persona, index),
            variables={"appointment": "Tuesday at nine"},
        )
        ConsentFactory(contact=contact)
        TargetFactory(campaign=campaign, contact=contact)
    return campaign


@pytest.fixture
def carrier_at_account_rate(carrier):
    """The session's carrier with the account's dialing rate set as the organisation's."""
    session_rate = 1 / carrier.pacer.interval
    carrier.set_calls_per_second(ACCOUNT_CALLS_PER_SECOND)
    yield carrier
    carrier.set_calls_per_second(session_rate)


def test_two_campaigns_together_keep_to_the_accounts_calls_per_second_at_the_carrier(
    stack, carrier_at_account_rate, lawful_clock
):
    carrier = carrier_at_account_rate
    slow = reminder_campaign(
        short_call_personas(TARGETS_EACH),
        calls_per_second=SLOW_CAMPAIGN_RATE,
        max_concurrent_calls=20,
    )
    fast = campaign_beside(
        slow,
        short_call_personas(TARGETS_EACH, offset=1),
        offset=TARGETS_EACH,
        calls_per_second=FAST_CAMPAIGN_RATE,
        max_concurrent_calls=20,
    )
    Organization.objects.filter(pk=slow.organization_id).update(
        account_calls_per_second=Decimal(ACCOUNT_CALLS_PER_SECOND), line_capacity=50
    )
    already_dialed = {dial.call_sid for dial in carrier.dials()}
    for campaign in (slow, fast):
        campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    def all_ended():
        ended = Call.objects.filter(target__campaign__in=[slow, fast], ended_at__isnull=False)
        return ended.count() == 2 * TARGETS_EACH

    wait_until(all_ended, timeout=300, interval=1, stack=stack, what="every call ended")

    sids = {
        campaign: set(
            Call.objects.filter(target__campaign=campaign).values_list("carrier_sid", flat=True)
        )
        for campaign in (slow, fast)
    }
    dials = [dial for dial in carrier.dials() if dial.call_sid not in already_dialed]
    assert len(dials) == 2 * TARGETS_EACH
    requested = {
        campaign: [dial.requested_at for dial in dials if dial.call_sid in sids[campaign]]
        for campaign in (slow, fast)
    }
    # The two campaigns dialed at the same time, so their rates had to share the account's.
    assert min(requested[fast]) < max(requested[slow])
    assert min(requested[slow]) < max(requested[fast])
    # Our buckets grant one call per 1/4 s to the account; a grant and the request it admits
    # are a few milliseconds apart, so a one-second window can catch one grant more at its
    # edge. Without the account's bucket the two campaigns would send 6 a second.
    everyone = requested[slow] + requested[fast]
    assert most_in_any_second(everyone) <= ACCOUNT_CALLS_PER_SECOND + 1
    assert most_in_any_second(requested[slow]) <= SLOW_CAMPAIGN_RATE + 1
    assert most_in_any_second(requested[fast]) <= FAST_CAMPAIGN_RATE + 1
    # The carrier, like Twilio, queues what comes faster than the account's rate: what it
    # dialed never exceeds that rate in any second of its own clock.
    slots = sorted(dial.dial_slot for dial in dials)
    most_dialed = max(
        sum(1 for later in slots[index:] if later - slot < 1) for index, slot in enumerate(slots)
    )
    assert most_dialed <= ACCOUNT_CALLS_PER_SECOND


def test_a_caller_gets_the_reserved_line_while_a_campaign_fills_the_rest_and_the_next_hears_busy(
    stack, carrier, lawful_clock
):
    # Silent people keep their line until a long silence, so the lines stay taken while the
    # callers ring in.
    campaign = reminder_campaign(["silent"] * 6, calls_per_second=5, max_concurrent_calls=6)
    Organization.objects.filter(pk=campaign.organization_id).update(
        line_capacity=3, inbound_reserve=1, account_calls_per_second=Decimal(5)
    )
    PhoneNumber.objects.filter(number=SANDBOX_CALLER_ID).update(
        is_inbound=True, inbound_agent=campaign.agent
    )
    carrier.add_number(SANDBOX_CALLER_ID, f"{stack.public_base_url}/twilio/voice")
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    outbound = Call.objects.filter(target__campaign=campaign)

    def campaign_saturates_its_lines():
        answered = outbound.filter(status=CallStatus.IN_PROGRESS).count()
        waiting = Target.objects.filter(
            campaign=campaign, status=Target.Status.PENDING, last_reason="capacity"
        ).count()
        return answered == 2 and waiting == 4

    wait_until(campaign_saturates_its_lines, timeout=60, stack=stack, what="two lines taken")
    assert outbound.count() == 2  # the third line is kept for callers

    caller = carrier.place_inbound_call(persona_number("silent", 90), SANDBOX_CALLER_ID, "silent")
    answered = wait_until(
        lambda: Call.objects.filter(carrier_sid=caller, media_started_at__isnull=False).first(),
        timeout=60,
        stack=stack,
        what="the caller connected to the agent",
    )
    assert (answered.direction, answered.status) == (Call.Direction.INBOUND, CallStatus.IN_PROGRESS)

    turned_away_sid = carrier.place_inbound_call(
        persona_number("silent", 91), SANDBOX_CALLER_ID, "silent"
    )
    at_carrier = carrier.wait_for_call(turned_away_sid, timeout=60)
    verbs = [entry["verb"] for entry in at_carrier.log_entries("twiml") if "verb" in entry]
    assert any("All our lines are busy" in verb for verb in verbs)
    assert any("Hangup" in verb for verb in verbs)
    assert not at_carrier.stream_sids  # never connected to an agent
    turned_away = Call.objects.get(carrier_sid=turned_away_sid)
    assert (turned_away.status, turned_away.outcome) == (CallStatus.COMPLETED, "over_capacity")
    # Outbound still held back: two campaign calls, never more, while the caller is on.
    assert outbound.count() == 2

    client = carrier.twilio_client()
    for sid in [*outbound.values_list("carrier_sid", flat=True), caller]:
        client.calls(sid).update(status="completed")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PAUSED)
    wait_until(
        lambda: not Call.objects.filter(ended_at__isnull=True).exists(),
        timeout=60,
        stack=stack,
        what="every call ended",
    )
    lines = [(call.created_at, call.ended_at) for call in Call.objects.exclude(pk=turned_away.pk)]
    assert most_at_once(lines) == 3
