"""The campaign list: status as a badge in words, progress, spend for cost readers only, and
the next step."""

from decimal import Decimal

import pytest
from django.test import Client

from campaigns.models import Campaign, PauseReason, Target
from tests.factories import CallFactory, CampaignFactory, TargetFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def listed(role: str) -> str:
    client = Client()
    client.force_login(member_of(role, role))
    response = client.get("/admin/campaigns/campaign/")
    assert response.status_code == 200
    return text_of(response)


@pytest.fixture
def campaigns():
    paused = CampaignFactory(
        name="Flu shots",
        status=Campaign.Status.PAUSED,
        paused_reason=PauseReason.BUDGET_EXHAUSTED,
        budget=Decimal("10.00"),
    )
    TargetFactory(campaign=paused, status=Target.Status.DONE)
    TargetFactory(campaign=paused, status=Target.Status.PENDING)
    CallFactory(target__campaign=paused, cost_total=Decimal("4.250000"))
    CallFactory(target__campaign=paused, cost_total=Decimal("5.750000"))
    CampaignFactory(name="Spring draft")
    return paused


def test_finance_sees_progress_spend_and_the_next_step(campaigns):
    page = listed("finance")
    assert (
        "Flu shots Paused 1 of 4 (25 %) 10.00 of 10.00 USD Budget exhausted: raise it, then resume"
        in page
    )
    assert "Spring draft Draft No contacts" in page


def test_an_operator_sees_no_spend(campaigns):
    page = listed("operator")
    assert "Flu shots Paused 1 of 4 (25 %) Budget exhausted: raise it, then resume" in page
    assert "USD" not in page
