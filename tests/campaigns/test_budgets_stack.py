"""A campaign budget through the real stack and the sandbox: the tick books only what the
budget can hold, the priced call exhausts it, the alert is recorded and sent, the campaign
pauses."""

from decimal import Decimal

import pytest
from django.utils import timezone

from calls.models import Call
from campaigns.lifecycle import campaign_launch
from campaigns.models import BudgetAlert, Campaign
from tests.factories import reminder_campaign
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_campaign_budget_holds_one_call_then_pauses_the_campaign(stack, lawful_clock):
    campaign = reminder_campaign(["confirm"] * 4, max_concurrent_calls=4, budget="0.20")
    campaign.agent.max_cost_per_call = Decimal("0.15")  # two estimates would not fit
    campaign.agent.save(update_fields=["max_cost_per_call"])
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    def paused():
        campaign.refresh_from_db()
        return campaign.status == Campaign.Status.PAUSED

    wait_until(paused, timeout=180, stack=stack, what="the campaign paused by its budget")

    assert campaign.paused_reason == "budget_exhausted"
    (placed,) = Call.objects.filter(target__campaign=campaign, carrier_sid__isnull=False)
    assert placed.priced_at is not None
    assert Decimal("0.05") < placed.cost_total <= Decimal("0.15")
    (alert,) = BudgetAlert.objects.filter(campaign=campaign)
    # The alert counted the call as priced when it ended; its analysis is billed after.
    assert (alert.threshold, alert.reserved) == (100, 0)
    assert Decimal("0.05") < alert.spent <= placed.cost_total
    wait_until(
        lambda: BudgetAlert.objects.filter(pk=alert.pk, notified_at__isnull=False).exists(),
        timeout=30,
        stack=stack,
        what="the alert notified",
    )
