"""The dial claim: one lease for first deliveries, retries, duplicates and the reclaimer, so
a call is placed once, and a call left by a dead worker is claimed again soon."""

import pytest
import time_machine
from django.utils import timezone

from calls.dialing import (
    DIAL_LEASE,
    call_claim,
    call_dial,
    call_dial_give_up,
    calls_dial_reclaimable,
)
from calls.models import CallStatus
from calls.tasks import dial
from tests.factories import TUESDAY_AFTERNOON, booked_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_it_places_nothing_on_a_retry_delivery_while_the_first_delivery_holds_the_call(
    carrier_settings,
):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        assert call_claim(call_id=call.pk, at=timezone.now())  # the first delivery, mid-dial

        retry = dial.apply(args=[call.pk], retries=1).get()

        assert retry == {"call": call.pk, "placed": False, "reason": "already claimed"}
        assert carrier_settings.calls_to(call.to_number) == []

        clock.shift(DIAL_LEASE.total_seconds() + 1)  # the first delivery's worker died
        again = dial.apply(args=[call.pk], retries=2).get()
        duplicate = dial.apply(args=[call.pk], retries=2).get()

    assert (again["placed"], duplicate["placed"]) == (True, False)
    assert len(carrier_settings.calls_to(call.to_number)) == 1


def test_it_dials_again_a_call_whose_worker_died_before_sending_once_the_lease_expires(
    carrier_settings,
):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        call_claim(call_id=call.pk, at=timezone.now())  # then the worker is killed

        assert calls_dial_reclaimable(at=timezone.now()) == []
        clock.shift(DIAL_LEASE.total_seconds() + 1)
        assert calls_dial_reclaimable(at=timezone.now()) == [call.pk]
        placed = call_dial(call_id=call.pk)

    call.refresh_from_db()
    assert placed.placed
    assert call.status == CallStatus.INITIATED
    assert len(carrier_settings.calls_to(call.to_number)) == 1


def test_it_never_gives_up_on_a_call_a_live_worker_holds(carrier_settings):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True):
        call = booked_call()
        claim = call_claim(call_id=call.pk, at=timezone.now())

        gave_up = call_dial_give_up(
            call_id=call.pk, reason="carrier_unavailable", at=timezone.now()
        )

    call.refresh_from_db()
    assert gave_up is False
    assert (call.status, call.dial_lease_until) == (CallStatus.DIALING, claim.lease_until)


def test_it_enqueues_again_a_queued_call_whose_dial_was_lost_once_per_lease(carrier_settings):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()  # its `dial` message was reserved by a worker that then died

        assert calls_dial_reclaimable(at=timezone.now()) == []
        clock.shift(DIAL_LEASE.total_seconds() + 1)
        first = calls_dial_reclaimable(at=timezone.now())
        again_at_once = calls_dial_reclaimable(at=timezone.now())
        clock.shift(DIAL_LEASE.total_seconds() + 1)
        later = calls_dial_reclaimable(at=timezone.now())
        placed = call_dial(call_id=call.pk)

    assert (first, again_at_once, later) == ([call.pk], [], [call.pk])
    assert placed.placed
    assert len(carrier_settings.calls_to(call.to_number)) == 1
