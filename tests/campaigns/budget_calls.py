"""Campaigns with many booked calls, and calls that end as the carrier would end them, for
the budget tests."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from calls.models import Call, CallStatus, CostEntry
from calls.states import call_transition
from campaigns.lifecycle import campaign_launch
from campaigns.models import Campaign
from campaigns.scheduling import campaign_tick
from tests.factories import TUESDAY_AFTERNOON, reminder_campaign


def campaign_with_booked_calls(
    count: int,
    *,
    cap: str = "1.00",
    budget: str | None = None,
    at: datetime = TUESDAY_AFTERNOON,
    **fields,
) -> tuple[Campaign, list[int]]:
    """A launched campaign whose agent caps each call at `cap`, and `count` calls booked by
    its tick and not yet dialled; then its budget is set to `budget` (as an operator
    lowering it, or another campaign spending the organisation's, leaves calls booked that
    the budget can no longer hold)."""
    campaign = reminder_campaign(["confirm"] * count, max_concurrent_calls=count, **fields)
    # Lines enough for every call at once: the budget, not the carrier account, limits them.
    organization = campaign.organization
    organization.line_capacity = count + organization.inbound_reserve
    organization.save(update_fields=["line_capacity"])
    campaign.agent.max_cost_per_call = cap
    campaign.agent.save(update_fields=["max_cost_per_call"])
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=at)
    booked = campaign_tick(campaign_id=campaign.pk, at=at, enqueue_dial=lambda call_id: None).calls
    assert len(booked) == count
    if budget is not None:
        campaign.budget = Decimal(budget)
        campaign.save(update_fields=["budget"])
    return campaign, booked


def end_at_the_carrier(call_id: int, *, seconds: int = 60, tokens: int = 10_000) -> None:
    """The carrier placed the call, it was answered, talked for `seconds` with the model
    (`tokens` audio tokens each way), and ended: everything pricing needs."""
    now = timezone.now()
    call_transition(
        call_id=call_id, to=CallStatus.INITIATED, at=now, carrier_sid=f"CA{call_id:032d}"
    )
    call_transition(call_id=call_id, to=CallStatus.IN_PROGRESS, at=now, answered_by="human")
    call_transition(call_id=call_id, to=CallStatus.COMPLETED, at=now)
    Call.objects.filter(pk=call_id).update(
        duration_seconds=seconds,
        audio_input_tokens=tokens,
        audio_output_tokens=tokens,
        media_ended_at=now,
    )


def ledger_total(calls) -> object:
    return CostEntry.objects.filter(call__in=calls).aggregate(total=Sum("amount"))["total"]
