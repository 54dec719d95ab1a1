"""What every fault test asserts once the fault is over: no target lost, no number dialed
twice at the carrier, every ended call settled and priced."""

import time
from collections import Counter
from decimal import Decimal

from django.db import connections
from django.utils import timezone

from calls.models import Call, CallEvent
from campaigns.lifecycle import campaign_launch
from campaigns.models import Campaign, Target
from campaigns.scheduling import ACTIVE_CALL_STATUSES
from tests.factories import reminder_campaign
from tests.wait import wait_until

FINAL_TARGET = (Target.Status.DONE, Target.Status.CLOSED)
# Short calls, so that the suite keeps within its time budget: busy, unanswered and failed
# lines end in seconds. (Answered calls and their media bridge have their own tests.)
PERSONAS = ["busy", "no_answer", "failed", "busy", "no_answer", "failed"]


def fault_campaign(*, calls_per_second: str, personas=PERSONAS, first_index=0) -> Campaign:
    """A running campaign of one attempt per target; a call that never reached the carrier
    is tried again a second later. `first_index` gives it numbers of its own (see
    `persona_number`)."""
    campaign = reminder_campaign(
        personas,
        first_index=first_index,
        max_concurrent_calls=len(personas),
        calls_per_second=Decimal(calls_per_second),
        max_attempts=1,
        retry_delays={"no_answer": 1, "busy": 1, "failed": 1, "voicemail": 1},
    )
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())
    return campaign


def reconnect() -> None:
    """This test process's own connection did not survive a database restart."""
    for connection in connections.all(initialized_only=True):
        connection.close()


def campaign_calls(campaign):
    return Call.objects.filter(target__campaign=campaign)


def wait_for_recovery(stack, campaign, *, fault_cleared_at: float) -> float:
    """Wait until the campaign has settled, and return the seconds it took after the fault
    was cleared. Every ended call must be settled and priced within 60 s of the last call
    ending; the other bounds are liveness bounds, not performance expectations."""

    def no_call_live():
        calls = campaign_calls(campaign)
        targets = Target.objects.filter(campaign=campaign)
        idle = not calls.filter(status__in=ACTIVE_CALL_STATUSES).exists()
        return idle and not targets.filter(status=Target.Status.PENDING).exists()

    def settled_and_priced():
        calls = campaign_calls(campaign)
        unpriced = calls.filter(ended_at__isnull=False, priced_at__isnull=True).count()
        unsettled = Target.objects.filter(campaign=campaign).exclude(status__in=FINAL_TARGET)
        return unpriced == 0 and not unsettled.exists()

    try:
        wait_until(no_call_live, timeout=180, stack=stack, what="every call ended")
        wait_until(settled_and_priced, timeout=60, stack=stack, what="every ended call priced")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{describe(campaign)}") from None
    return round(time.monotonic() - fault_cleared_at, 1)


def describe(campaign) -> str:
    """The campaign's calls and targets, for a failure message."""
    calls = campaign_calls(campaign).order_by("pk")
    lines = [
        f"call {call.pk} to {call.to_number}: {call.status} sid={call.carrier_sid} "
        f"requested={call.dial_requested_at} lease={call.dial_lease_until} "
        f"ended={call.ended_at} priced={call.priced_at} reason={call.hangup_reason!r}"
        for call in calls
    ]
    lines += [
        f"target {target.pk}: {target.status} {target.last_reason!r} next={target.next_attempt_at}"
        for target in Target.objects.filter(campaign=campaign).order_by("pk")
    ]
    return "\n".join(lines)


def dialed_per_number(carrier_view, campaign) -> Counter:
    numbers = set(Target.objects.filter(campaign=campaign).values_list("contact__phone", flat=True))
    return Counter(call.to for call in carrier_view.placed() if call.to in numbers)


def assert_nothing_lost(carrier_view, campaign) -> dict:
    """The invariants, and the figures for the report."""
    dialed = dialed_per_number(carrier_view, campaign)
    targets = Target.objects.filter(campaign=campaign)
    lost = targets.exclude(status__in=FINAL_TARGET).count()
    doubled = sorted(number for number, times in dialed.items() if times > 1)
    calls = campaign_calls(campaign)
    assert lost == 0, describe(campaign)
    assert doubled == [], f"{dialed}\n{describe(campaign)}"
    never_dialed = set(targets.values_list("contact__phone", flat=True)) - set(dialed)
    assert not never_dialed, f"never dialed: {sorted(never_dialed)}\n{describe(campaign)}"
    assert not calls.filter(status__in=ACTIVE_CALL_STATUSES).exists()
    assert not calls.filter(ended_at__isnull=False, priced_at__isnull=True).exists()
    for call in calls.filter(carrier_sid__isnull=False):
        assert call.ended_at is not None, call
        components = list(call.cost_entries.values_list("component", flat=True))
        assert len(components) == len(set(components)), call
    return {
        "calls placed": sum(dialed.values()),
        "targets lost": lost,
        "numbers double-dialed": len(doubled),
        "reclaimed dials": CallEvent.objects.filter(
            call__target__campaign=campaign, kind="dial_claimed"
        ).count(),
    }
