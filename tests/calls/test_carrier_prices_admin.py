"""The call list's carrier price filter: the calls finance should look at."""

from decimal import Decimal

import pytest
from django.urls import reverse

from calls.models import CallStatus, CostEntry, RateCard
from tests.factories import CallFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def priced_call(*, to_number: str, estimate: str, carrier_price: str | None):
    """An ended call whose ledger bills `estimate` for carrier minutes, and the carrier's own
    price for it (None: not filled in yet)."""
    call = CallFactory(
        to_number=to_number,
        status=CallStatus.COMPLETED,
        carrier_sid=f"CA{to_number[1:]:0>32}",
        carrier_price=None if carrier_price is None else Decimal(carrier_price),
        carrier_price_unit="" if carrier_price is None else "USD",
    )
    CostEntry.objects.create(
        call=call,
        component="carrier_minute",
        quantity=1,
        unit="minute",
        unit_price=Decimal(estimate),
        amount=Decimal(estimate),
        rate_card=RateCard.objects.get(component="carrier_minute", model=""),
    )
    return call


def test_finance_lists_the_calls_the_carrier_priced_more_than_a_cent_apart(client):
    priced_call(to_number="+13055550101", estimate="0.0140", carrier_price="0.0140")
    priced_call(to_number="+13055550102", estimate="0.0140", carrier_price="0.0230")
    priced_call(to_number="+13055550103", estimate="0.0280", carrier_price="0.0140")
    priced_call(to_number="+13055550104", estimate="0.0140", carrier_price=None)
    client.force_login(member_of("finance", "fred"))
    url = reverse("admin:calls_call_changelist")

    differs = client.get(url, {"carrier_price": "differs"})
    awaiting = client.get(url, {"carrier_price": "awaiting"})

    def numbers(response):
        return {call.to_number for call in response.context["cl"].result_list}

    assert numbers(differs) == {"+13055550103"}  # +13055550102 is 0.9 cent off: within a cent
    assert "1 call" in text_of(differs)
    assert "0.0140 USD" in text_of(differs)  # the carrier's price, beside our estimate
    assert numbers(awaiting) == {"+13055550104"}
    assert "1 call" in text_of(awaiting)
