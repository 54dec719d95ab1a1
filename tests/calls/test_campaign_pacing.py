"""Calls per second and concurrency caps hold under a 200-target campaign, measured from
the carrier's side and from our own records."""

from datetime import timedelta

import pytest
from django.utils import timezone

from calls.models import Call, CallStatus
from campaigns.lifecycle import campaign_launch
from campaigns.models import Organization
from tests.factories import reminder_campaign
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TARGETS = 200
CALLS_PER_SECOND = 8
MAX_CONCURRENT = 6


def most_in_any_second(instants) -> int:
    instants = sorted(instants)
    most, start = 0, 0
    for end, instant in enumerate(instants):
        while instant - instants[start] >= timedelta(seconds=1):
            start += 1
        most = max(most, end - start + 1)
    return most


def most_at_once(intervals) -> int:
    intervals = list(intervals)
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    most = current = 0
    for _, change in edges:  # an end sorts before a start at the same instant
        current += change
        most = max(most, current)
    return most


def test_pacing_and_concurrency_hold_for_a_200_target_campaign(stack, carrier, lawful_clock):
    # People who do not answer or are busy: short calls, so the caps, not the calls, bind.
    personas = ["no_answer" if index % 2 else "busy" for index in range(TARGETS)]
    campaign = reminder_campaign(
        personas, calls_per_second=CALLS_PER_SECOND, max_concurrent_calls=MAX_CONCURRENT
    )
    # The carrier account allows more than the campaign asks for, so the campaign's own
    # caps are the ones measured here (tests/calls/test_capacity_stack.py: the account's).
    Organization.objects.filter(pk=campaign.organization_id).update(
        account_calls_per_second=CALLS_PER_SECOND * 2, line_capacity=MAX_CONCURRENT * 2
    )
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    def all_ended():
        ended = Call.objects.filter(target__campaign=campaign, ended_at__isnull=False).count()
        return ended == TARGETS

    wait_until(all_ended, timeout=300, interval=1, stack=stack, what="200 calls ended")

    calls = list(Call.objects.filter(target__campaign=campaign))
    assert len(calls) == TARGETS
    assert {call.status for call in calls} == {CallStatus.NO_ANSWER, CallStatus.BUSY}
    at_carrier = [carrier.calls[call.carrier_sid] for call in calls]
    # The token bucket grants one call per 1/8 s; a grant and the request it admits are a
    # few milliseconds apart, so a one-second window can catch one grant more at its edge.
    assert most_in_any_second(c.date_created for c in at_carrier) <= CALLS_PER_SECOND + 1
    # A call holds a slot from the moment it is booked until its final status.
    assert most_at_once((call.created_at, call.ended_at) for call in calls) <= MAX_CONCURRENT
    assert most_at_once((c.date_created, c.end_time) for c in at_carrier) <= MAX_CONCURRENT
