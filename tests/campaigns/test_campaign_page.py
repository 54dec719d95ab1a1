"""The campaign page: live figures above the settings, money for cost readers only, links to
the campaign's targets and calls, labels instead of codes."""

from decimal import Decimal

import pytest
from django.test import Client

from calls.models import CallStatus
from campaigns.models import Campaign, Target
from tests.factories import CallFactory, CampaignFactory, TargetFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(member_of(role, role))
    return client


@pytest.fixture
def campaign():
    campaign = CampaignFactory(
        name="Flu shots", status=Campaign.Status.RUNNING, budget=Decimal("20.00")
    )
    TargetFactory(campaign=campaign, status=Target.Status.DONE, outcome="confirmed")
    TargetFactory(campaign=campaign, status=Target.Status.DONE, outcome="reschedule_requested")
    TargetFactory(campaign=campaign, status=Target.Status.CLOSED, last_reason="max_attempts")
    TargetFactory(campaign=campaign)
    CallFactory(
        target__campaign=campaign,
        target__status=Target.Status.CALLING,
        status=CallStatus.IN_PROGRESS,
        carrier_sid="CA" + "4" * 32,
        cost_total=Decimal("5.000000"),
    )
    return campaign


def page_of(role: str, campaign) -> str:
    response = signed_in(role).get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert response.status_code == 200
    return text_of(response)


def test_it_shows_counts_outcomes_and_progress_in_words(campaign):
    page = page_of("operator", campaign)
    assert "3 of 5 settled (60 %)" in page
    assert "Done 2" in page
    assert "Closed 1" in page
    assert "Waiting 1" in page
    assert "Calling 1" in page
    assert "Confirmed 1" in page
    assert "Asked to reschedule 1" in page
    assert "reschedule_requested" not in page
    assert "Calls in progress: 1" in page


def test_it_shows_spend_against_the_budget_to_finance_only(campaign):
    assert "5.00 USD of 20.00 USD budget · 15.00 USD left" in page_of("finance", campaign)
    response = signed_in("operator").get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert 'id="campaign-spend"' not in response.content.decode()
    assert "USD" not in text_of(response)


def test_its_links_open_the_campaigns_targets_and_calls(campaign):
    client = signed_in("operator")
    other = CampaignFactory(name="Other")
    TargetFactory(campaign=other, contact__name="Not in this campaign")
    targets = client.get(f"/admin/campaigns/target/?campaign__id__exact={campaign.pk}")
    assert targets.status_code == 200
    assert "Not in this campaign" not in text_of(targets)
    calls = client.get(f"/admin/calls/call/?target__campaign__id__exact={campaign.pk}")
    assert calls.status_code == 200
    assert "1 call" in text_of(calls)
