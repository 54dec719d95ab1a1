"""Carrier reconciliation: the carrier's own price for each call, fetched with backoff once
it fills it in, stored beside our estimate, and the calls where the two differ."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from calls.carrier_prices import (
    calls_awaiting_carrier_price,
    calls_with_carrier_price_mismatch,
    carrier_prices_poll,
)
from calls.costs import call_price
from calls.dialing import call_dial
from calls.models import Call, CallStatus
from calls.states import call_transition
from sandbox.carrier import Billing
from tests.factories import TUESDAY_AFTERNOON, booked_call
from tests.wait import wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PRICE_DELAY_SECONDS = 2.0


@pytest.fixture
def quick_billing(carrier):
    """The carrier prices calls 2 s after they end instead of minutes later."""
    usual = carrier.billing
    carrier.billing = Billing(price_per_minute=Decimal("0.0140"), price_delay_seconds=2.0)
    yield carrier.billing
    carrier.billing = usual


def ended_call(carrier_settings, *, persona: str, duration: int | None) -> Call:
    """A call the carrier placed and ended; our row says it completed after `duration`
    seconds (None: unknown, as when its final callback was lost) and it is priced."""
    call = booked_call([persona])
    assert call_dial(call_id=call.pk).placed
    call.refresh_from_db()
    at_carrier = carrier_settings.carrier.wait_for_call(call.carrier_sid)
    fields = {"duration_seconds": duration} if duration is not None else {}
    call_transition(call_id=call.pk, to=CallStatus.COMPLETED, at=at_carrier.end_time, **fields)
    call_price(call_id=call.pk)
    return Call.objects.get(pk=call.pk)


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_the_carrier_price_is_polled_with_backoff_until_the_carrier_fills_it_in(
    carrier_settings, quick_billing
):
    call = ended_call(carrier_settings, persona="confirm", duration=30)
    first_check = call.ended_at + timedelta(minutes=1)
    assert list(calls_awaiting_carrier_price(at=call.ended_at)) == []

    # Right after the call the carrier has no price yet: ask again a minute later, then two.
    (check,) = carrier_prices_poll(at=first_check)
    assert (check.priced, check.reason) == (False, "not priced yet")
    call.refresh_from_db()
    assert (call.carrier_price, call.carrier_price_checks) == (None, 1)
    assert call.carrier_price_next_check_at == first_check + timedelta(minutes=1)
    assert carrier_prices_poll(at=first_check + timedelta(seconds=30)) == []

    wait_until(
        lambda: carrier_settings.carrier.twilio_client().calls(call.carrier_sid).fetch().price,
        timeout=30,
        what="the carrier's price",
    )
    (check,) = carrier_prices_poll(at=first_check + timedelta(minutes=1))

    call.refresh_from_db()
    assert check.priced
    assert call.carrier_price == Decimal("0.0140")  # one started minute
    assert call.carrier_price_unit == "USD"
    assert call.carrier_price_next_check_at is None
    assert carrier_prices_poll(at=first_check + timedelta(hours=1)) == []
    # Our estimate also billed one minute: the two agree, nothing to look at.
    assert list(calls_with_carrier_price_mismatch(calls=Call.objects.all())) == []


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_call_priced_differently_by_the_carrier_is_listed_with_the_difference(
    carrier_settings, quick_billing
):
    # The final callback was lost, so our ledger has no carrier minutes for the call.
    call = ended_call(carrier_settings, persona="confirm", duration=None)
    wait_until(
        lambda: carrier_settings.carrier.twilio_client().calls(call.carrier_sid).fetch().price,
        timeout=30,
        what="the carrier's price",
    )

    carrier_prices_poll(at=call.ended_at + timedelta(minutes=1))

    (listed,) = calls_with_carrier_price_mismatch(calls=Call.objects.all())
    assert listed.pk == call.pk
    assert listed.carrier_estimate == 0
    assert listed.carrier_difference == listed.carrier_price == Decimal("0.0140")


def test_polling_stops_24_hours_after_the_call_ended(carrier_settings, quick_billing):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True):
        call = ended_call(carrier_settings, persona="busy", duration=0)

    assert list(calls_awaiting_carrier_price(at=call.ended_at + timedelta(hours=23))) == [call]
    assert list(calls_awaiting_carrier_price(at=call.ended_at + timedelta(hours=24))) == []


def test_the_sandbox_carrier_fills_the_price_in_after_its_delay_like_twilio(
    carrier_settings, quick_billing
):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True):
        call = booked_call(["confirm"])
        assert call_dial(call_id=call.pk).placed
    call.refresh_from_db()
    client = carrier_settings.carrier.twilio_client()
    carrier_settings.carrier.wait_for_call(call.carrier_sid)

    right_after = client.calls(call.carrier_sid).fetch()
    later = wait_until(
        lambda: client.calls(call.carrier_sid).fetch().price, timeout=30, what="a price"
    )

    assert right_after.status == "completed"
    assert right_after.price is None
    assert right_after.price_unit == "USD"
    assert Decimal(later) < 0
