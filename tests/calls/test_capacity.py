"""The carrier account's lines and dialing rate, shared by every campaign on the account:
what the tick books, what the dial waits for, and what a caller hears when every line is
in use."""

import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from calls.dialing import DialLater, call_dial
from calls.models import Call, CallStatus
from campaigns.lifecycle import campaign_launch
from campaigns.models import Campaign, Organization, Target
from campaigns.scheduling import campaign_tick
from tests.factories import (
    TUESDAY_AFTERNOON,
    CampaignFactory,
    ConsentFactory,
    ContactFactory,
    PhoneNumberFactory,
    TargetFactory,
    booked_call,
    reminder_campaign,
)
from voiceops.labels import reason_label

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TOKEN = "capacity-test-token"
BASE = "https://voiceops.example.com"


def second_campaign(first: Campaign, *, targets: int) -> Campaign:
    """Another campaign of the same organisation, so on the same carrier account."""
    campaign = CampaignFactory(
        organization=first.organization, agent=first.agent, caller_id=first.caller_id
    )
    for index in range(targets):
        contact = ContactFactory(organization=first.organization, phone=f"+1305555{7000 + index}")
        ConsentFactory(contact=contact)
        TargetFactory(campaign=campaign, contact=contact)
    return campaign


def launched(campaign: Campaign) -> Campaign:
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=TUESDAY_AFTERNOON)
    return campaign


def tick(campaign: Campaign) -> list[int]:
    booked = []
    campaign_tick(campaign_id=campaign.pk, at=TUESDAY_AFTERNOON, enqueue_dial=booked.append)
    return booked


def test_campaigns_on_one_account_share_its_lines_less_the_inbound_reserve():
    first = reminder_campaign(["confirm"] * 3, max_concurrent_calls=5)
    Organization.objects.filter(pk=first.organization_id).update(line_capacity=4, inbound_reserve=2)
    second = second_campaign(first, targets=3)
    launched(first), launched(second)

    booked_first = tick(first)
    booked_second = tick(second)

    assert (len(booked_first), booked_second) == (2, [])
    waiting = Target.objects.filter(campaign=second, status=Target.Status.PENDING)
    assert [target.last_reason for target in waiting] == ["capacity"] * 3
    assert reason_label("capacity") == "Waiting for a free line"

    # A call ends: its line is free again, and the other campaign takes it.
    Call.objects.filter(pk=booked_first[0]).update(
        status=CallStatus.COMPLETED, ended_at=timezone.now()
    )
    assert len(tick(second)) == 1
    assert Call.objects.filter(status=CallStatus.QUEUED).count() == 2


def test_the_campaigns_own_cap_still_holds_inside_a_larger_pool():
    campaign = launched(reminder_campaign(["confirm"] * 4, max_concurrent_calls=1))

    assert len(tick(campaign)) == 1
    assert tick(campaign) == []
    # The campaign's own cap, not the account's lines, holds the rest: no capacity reason.
    assert set(Target.objects.filter(status="pending").values_list("last_reason", flat=True)) == {
        ""
    }


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_a_dial_held_back_by_the_accounts_rate_waits_and_says_why(carrier_settings):
    first = booked_call(["confirm", "decline"], max_concurrent_calls=2)
    # One call every 100 s on this account: the second dial cannot get a token in time. A
    # fresh account, so no earlier test has spent its bucket.
    Organization.objects.filter(pk=first.organization_id).update(
        carrier_account_sid=f"AC{uuid.uuid4().hex}", account_calls_per_second=Decimal("0.01")
    )
    second_id = Call.objects.exclude(pk=first.pk).get().pk

    assert call_dial(call_id=first.pk).placed
    with pytest.raises(DialLater) as waiting:
        call_dial(call_id=second_id)

    assert waiting.value.reason == "account_pacing"

    second = Call.objects.select_related("target").get(pk=second_id)
    assert (second.carrier_sid, second.dial_requested_at) == (None, None)
    assert second.target.last_reason == "account_pacing"
    assert "calls-per-second" in reason_label(second.target.last_reason)
    assert len(carrier_settings.calls_to(second.to_number)) == 0


def test_an_inbound_reserve_larger_than_the_lines_is_refused_in_words_and_by_the_database():
    organization = Organization(name="Harbor Clinic", line_capacity=2, inbound_reserve=3)

    with pytest.raises(ValidationError) as refused:
        organization.full_clean()
    assert "At most the 2 concurrent calls" in str(refused.value.message_dict["inbound_reserve"])
    with pytest.raises(IntegrityError), transaction.atomic():
        organization.save()


def post_inbound(client, form):
    path = reverse("calls:inbound")
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)


@override_settings(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE, ALLOWED_HOSTS=["testserver"])
def test_a_caller_beyond_the_lines_hears_the_busy_message_and_the_call_is_recorded(client):
    campaign = launched(reminder_campaign(["confirm"] * 3, max_concurrent_calls=5))
    organization = campaign.organization
    Organization.objects.filter(pk=organization.pk).update(line_capacity=3, inbound_reserve=1)
    line = PhoneNumberFactory(
        organization=organization, number="+12025550177", is_inbound=True,
        inbound_agent=campaign.agent,
    )  # fmt: skip
    assert len(tick(campaign)) == 2  # outbound stops below the reserved line

    within = post_inbound(client, {"CallSid": "CA901", "From": "+13055550123", "To": line.number})
    beyond = post_inbound(client, {"CallSid": "CA902", "From": "+13055550124", "To": line.number})
    again = post_inbound(client, {"CallSid": "CA902", "From": "+13055550124", "To": line.number})

    assert "<Connect>" in within.content.decode()
    answered = Call.objects.get(carrier_sid="CA901")
    assert answered.status == CallStatus.IN_PROGRESS
    for response in (beyond, again):
        twiml = response.content.decode()
        assert "<Connect>" not in twiml
        assert "Thank you for calling Bayview Dental. All our lines are busy" in twiml
        assert twiml.index("<Say>") < twiml.index("<Hangup />")
    turned_away = Call.objects.get(carrier_sid="CA902")
    assert (turned_away.direction, turned_away.status) == (
        Call.Direction.INBOUND,
        CallStatus.COMPLETED,
    )
    assert (turned_away.outcome, turned_away.hangup_reason) == ("over_capacity", "over_capacity")
    assert Call.objects.filter(direction=Call.Direction.INBOUND).count() == 2
    # The tick books nothing while every line is in use.
    assert tick(campaign) == []
