"""The dial task's service against the sandbox carrier: one call per booking, whatever
happens twice, and carrier errors classified."""

import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings

from calls.dialing import DialLater, call_dial
from calls.models import Call, CallStatus
from campaigns.lifecycle import campaign_launch
from campaigns.models import Campaign, Target
from campaigns.scheduling import campaign_tick
from tests.factories import TUESDAY_AFTERNOON, booked_call, reminder_campaign

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_the_same_dial_run_twice_places_one_call(carrier_settings):
    call = booked_call()

    first = call_dial(call_id=call.pk)
    second = call_dial(call_id=call.pk)

    assert (first.placed, second.placed) == (True, False)
    assert len(carrier_settings.calls_to(call.to_number)) == 1
    call.refresh_from_db()
    assert call.carrier_sid == carrier_settings.calls_to(call.to_number)[0].sid


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_two_workers_dialing_the_same_call_at_once_place_one_call(carrier_settings):
    call = booked_call()
    results = []

    def work():
        results.append(call_dial(call_id=call.pk))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(result.placed for result in results) == [False, True]
    assert len(carrier_settings.calls_to(call.to_number)) == 1


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_number_the_carrier_rejects_closes_the_target_without_retry(carrier_settings):
    call = booked_call()
    Call.objects.filter(pk=call.pk).update(to_number="+1555")  # as if it had become unroutable

    result = call_dial(call_id=call.pk)

    call.refresh_from_db()
    target = Target.objects.get(pk=call.target_id)
    assert not result.placed
    assert call.status == CallStatus.FAILED
    assert call.hangup_reason == "carrier_rejected_21211"
    assert (target.status, target.last_reason) == (Target.Status.CLOSED, "carrier_rejected_21211")


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_an_unreachable_carrier_means_try_again_and_the_retry_places_the_call(carrier_settings):
    call = booked_call()

    with override_settings(TWILIO_API_URL="http://127.0.0.1:9"), pytest.raises(DialLater):
        call_dial(call_id=call.pk)
    call.refresh_from_db()
    assert (call.status, call.carrier_sid) == (CallStatus.DIALING, None)

    retried = call_dial(call_id=call.pk)

    assert retried.placed
    assert len(carrier_settings.calls_to(call.to_number)) == 1


def test_a_target_outside_its_lawful_window_is_not_dialed_until_the_window_opens(carrier_settings):
    # Tuesday 07:30 Eastern. Florida spans two zones, so its 08:00 opening (plus the 1-minute
    # guard band) counts in the later one: 08:01 Central, 14:01 UTC.
    early = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    campaign = reminder_campaign(["confirm"], window_start="08:00", window_end="20:00")
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=early)
    booked = []

    report = campaign_tick(campaign_id=campaign.pk, at=early, enqueue_dial=booked.append)

    target = Target.objects.get(campaign=campaign)
    assert (report.calls, report.deferred) == ([], 1)
    assert target.last_reason == "outside_hours"
    assert target.next_attempt_at == datetime(2026, 11, 24, 14, 1, tzinfo=UTC)
    assert not Call.objects.exists()

    still_early = campaign_tick(
        campaign_id=campaign.pk,
        at=datetime(2026, 11, 24, 14, 0, 59, tzinfo=UTC),
        enqueue_dial=booked.append,
    )
    opened = campaign_tick(
        campaign_id=campaign.pk, at=target.next_attempt_at, enqueue_dial=booked.append
    )

    assert still_early.calls == []
    assert len(opened.calls) == 1
    with time_machine.travel(target.next_attempt_at, tick=True):
        assert call_dial(call_id=opened.calls[0]).placed
    assert len(carrier_settings.calls_to(target.contact.phone)) == 1


def test_the_dial_time_check_is_the_one_that_counts(carrier_settings):
    # Booked at 19:54 Florida time; the worker picks it up at 19:56, inside the 5-minute
    # guard band before the 20:00 close, so the call is deferred, not placed.
    booked_at = datetime(2026, 11, 25, 0, 54, tzinfo=UTC)
    with time_machine.travel(booked_at):
        call = booked_call(window_start="08:00", window_end="20:00")
    with time_machine.travel(datetime(2026, 11, 25, 0, 56, tzinfo=UTC), tick=True):
        result = call_dial(call_id=call.pk)

    call.refresh_from_db()
    target = Target.objects.get(pk=call.target_id)
    assert not result.placed
    assert call.status == CallStatus.CANCELED
    assert target.status == Target.Status.PENDING
    assert target.last_reason == "outside_hours"
    assert target.next_attempt_at > datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert not carrier_settings.calls_to(call.to_number)


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_paused_campaign_places_no_new_call(carrier_settings):
    call = booked_call()
    Campaign.objects.filter(pk=call.target.campaign_id).update(status=Campaign.Status.PAUSED)

    result = call_dial(call_id=call.pk)

    assert not result.placed
    assert not carrier_settings.calls_to(call.to_number)
    assert Target.objects.get(pk=call.target_id).status == Target.Status.PENDING
