"""Budgets under concurrency, on real PostgreSQL: dials racing for a campaign budget, and
calls finishing at once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from calls.costs import call_price
from calls.dialing import call_claim
from calls.models import Call, CallStatus
from campaigns.budgets import budget_usage, budgets_applying, budgets_enforce
from campaigns.models import BudgetAlert, Campaign, Target
from tests.campaigns.budget_calls import (
    campaign_with_booked_calls,
    end_at_the_carrier,
    ledger_total,
)
from tests.factories import TUESDAY_AFTERNOON, member_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def all_at_once(work, items):
    """Run `work(item)` for every item in its own thread, released together."""
    start = threading.Barrier(len(items))

    def run(item):
        start.wait()
        try:
            return work(item)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(run, items))


def campaign_usage(campaign: Campaign):
    (budget,) = budgets_applying(
        organization=campaign.organization, campaign=campaign, at=timezone.now()
    )
    return budget_usage(budget)


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_it_lets_exactly_as_many_of_50_racing_dials_through_as_the_budget_can_hold():
    campaign, call_ids = campaign_with_booked_calls(50, cap="1.00", budget="10.00")

    claimed = all_at_once(lambda call_id: call_claim(call_id=call_id, at=timezone.now()), call_ids)

    winners = [call for call in claimed if call is not None]
    assert len(winners) == 10
    assert (
        Call.objects.filter(status=CallStatus.DIALING, cost_reserved=Decimal("1.00")).count() == 10
    )
    deferred = Call.objects.filter(status=CallStatus.CANCELED, hangup_reason="over_budget")
    assert deferred.count() == 40
    assert set(deferred.values_list("cost_reserved", flat=True)) == {Decimal(0)}
    usage = campaign_usage(campaign)
    assert (usage.spent, usage.reserved) == (Decimal(0), Decimal("10.00"))
    waiting = Target.objects.filter(campaign=campaign, last_reason="over_budget")
    assert waiting.count() == 40
    assert all(target.status == Target.Status.PENDING for target in waiting)
    assert all(target.next_attempt_at > timezone.now() for target in waiting)


def price_and_enforce(call_id: int) -> None:
    """What the `price_call` task does once the call's media has ended."""
    call_price(call_id=call_id)
    budgets_enforce(call_id=call_id, at=timezone.now())


@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_50_calls_finishing_at_once_are_counted_exactly_alert_once_and_pause_the_campaign():
    campaign, call_ids = campaign_with_booked_calls(50, cap="1.00", budget="50.00")
    fred = member_of("finance", "fred", organization=campaign.organization)
    fred.email = "fred@bayview.example"
    fred.save()
    admin = member_of("admin", "ada", organization=campaign.organization)
    admin.email = "ada@bayview.example"
    admin.save()
    operator = member_of("operator", "olivia", organization=campaign.organization)
    operator.email = "olivia@bayview.example"
    operator.save()
    for call_id in call_ids:
        assert call_claim(call_id=call_id, at=timezone.now()) is not None
    estimates = campaign_usage(campaign).reserved
    assert estimates == Decimal("50.00")
    for call_id in call_ids:
        end_at_the_carrier(call_id)

    all_at_once(price_and_enforce, call_ids)

    calls = Call.objects.filter(pk__in=call_ids)
    usage = campaign_usage(campaign)
    assert usage.reserved == 0
    assert usage.spent == calls.aggregate(total=Sum("cost_total"))["total"] == ledger_total(calls)
    campaign.refresh_from_db()
    assert usage.spent <= campaign.budget + estimates
    assert usage.spent > campaign.budget * Decimal("0.8")
    alerts = BudgetAlert.objects.filter(campaign=campaign)
    assert sorted(alerts.values_list("threshold", flat=True)) == [80, 100]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.paused_reason) == ("paused", "budget_exhausted")
    assert campaign.get_paused_reason_display() == "Budget exhausted"
    subjects = sorted(message.subject for message in mail.outbox)
    assert len(subjects) == 2
    assert "is 80 % spent" in subjects[0]
    assert "is used up" in subjects[1]
    assert all(
        sorted(message.to) == ["ada@bayview.example", "fred@bayview.example"]
        for message in mail.outbox
    )
    assert set(alerts.values_list("notified_at", flat=True)) != {None}
