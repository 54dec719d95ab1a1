"""The sweeper: calls that stopped moving are reconciled with the carrier's record."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from calls.dialing import call_dial
from calls.models import Call, CallStatus
from calls.tasks import sweep_stuck_calls
from tests.factories import TUESDAY_AFTERNOON, booked_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def placed_and_finished_at_the_carrier(carrier_settings, persona="no_answer") -> Call:
    """A call the carrier placed and ended, whose callbacks never reached us."""
    call = booked_call([persona])
    assert call_dial(call_id=call.pk).placed
    call.refresh_from_db()
    carrier_settings.carrier.wait_for_call(call.carrier_sid)
    return call


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_call_stuck_dialing_with_a_sid_takes_the_carriers_status(carrier_settings):
    call = placed_and_finished_at_the_carrier(carrier_settings)
    # As if the worker died between storing the SID and recording `initiated`.
    Call.objects.filter(pk=call.pk).update(
        status=CallStatus.DIALING, dialing_at=timezone.now() - timedelta(minutes=5)
    )

    report = sweep_stuck_calls()

    call.refresh_from_db()
    assert report["dialing"] == 1
    assert call.status == CallStatus.NO_ANSWER
    assert call.events.filter(kind="status", to_status="no_answer", data__via="sweeper").exists()


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_live_call_whose_callbacks_were_lost_is_closed_from_the_carriers_record(
    carrier_settings,
):
    call = placed_and_finished_at_the_carrier(carrier_settings)
    stale = timezone.now() - timedelta(seconds=call.agent.max_call_seconds) - timedelta(minutes=5)
    Call.objects.filter(pk=call.pk).update(created_at=stale)

    report = sweep_stuck_calls()

    call.refresh_from_db()
    assert report["live"] == 1
    assert call.status == CallStatus.NO_ANSWER


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_call_still_ringing_past_its_ring_timeout_takes_the_carriers_status(carrier_settings):
    # Its callbacks were lost (the webhook answered 503 while the database was down).
    call = placed_and_finished_at_the_carrier(carrier_settings, persona="busy")
    Call.objects.filter(pk=call.pk).update(dialing_at=timezone.now() - timedelta(seconds=61))

    report = sweep_stuck_calls()

    call.refresh_from_db()
    assert report == {"dialing": 0, "ringing": 1, "live": 0}
    assert call.status == CallStatus.BUSY
    assert call.events.filter(kind="status", to_status="busy", data__via="sweeper").exists()


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_call_that_is_merely_young_is_left_alone(carrier_settings):
    call = placed_and_finished_at_the_carrier(carrier_settings)

    report = sweep_stuck_calls()

    call.refresh_from_db()
    assert report == {"dialing": 0, "ringing": 0, "live": 0}
    assert call.status == CallStatus.INITIATED


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_live_call_the_carrier_does_not_know_is_closed_as_failed(carrier_settings):
    call = booked_call(["confirm"])
    stale = timezone.now() - timedelta(seconds=call.agent.max_call_seconds) - timedelta(minutes=5)
    Call.objects.filter(pk=call.pk).update(
        status=CallStatus.IN_PROGRESS, carrier_sid="CA" + "0" * 32, created_at=stale
    )

    sweep_stuck_calls()

    call.refresh_from_db()
    assert (call.status, call.hangup_reason) == (CallStatus.FAILED, "unknown_at_carrier")
