"""Budgets in the admin: why a campaign is paused, and the alerts finance reads."""

import pytest
from django.urls import reverse

from campaigns.lifecycle import campaign_launch, campaign_pause
from campaigns.models import BudgetAlert
from tests.factories import CampaignFactory, OrganizationFactory, TargetFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def exhausted_campaign():
    campaign = CampaignFactory(name="Flu shots", budget="5.00")
    TargetFactory(campaign=campaign)
    campaign_launch(campaign_id=campaign.pk, user_id=None, at="2026-11-24T19:00:00Z")
    campaign_pause(campaign_id=campaign.pk, at="2026-11-24T19:30:00Z", reason="budget_exhausted")
    BudgetAlert.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        scope="campaign",
        threshold=100,
        budget="5.00",
        spent="5.120000",
        created_at="2026-11-24T19:30:00Z",
    )
    return campaign


def test_the_campaign_list_and_page_say_the_budget_paused_it(client, exhausted_campaign):
    client.force_login(member_of("operator", "olivia"))

    listing = text_of(client.get(reverse("admin:campaigns_campaign_changelist")))
    page = text_of(
        client.get(reverse("admin:campaigns_campaign_change", args=[exhausted_campaign.pk]))
    )

    assert "Flu shots Reminder Informational (reminders) Paused Budget exhausted" in listing
    assert "Why paused Budget exhausted" in page


def test_finance_reads_the_alerts_of_its_own_organisation_only(client, exhausted_campaign):
    elsewhere = CampaignFactory(organization=OrganizationFactory(), name="Elsewhere")
    BudgetAlert.objects.create(
        organization=elsewhere.organization,
        campaign=elsewhere,
        scope="campaign",
        threshold=80,
        budget="10.00",
        spent="8.000000",
        created_at="2026-11-24T19:00:00Z",
    )
    client.force_login(member_of("finance", "fred"))

    listing = text_of(client.get(reverse("admin:campaigns_budgetalert_changelist")))

    assert "Campaign budget Flu shots" in listing
    assert "Elsewhere" not in listing
    assert "1 budget alert" in listing


def test_an_operator_cannot_read_budget_alerts(client, exhausted_campaign):
    client.force_login(member_of("operator", "olivia"))

    response = client.get(reverse("admin:campaigns_budgetalert_changelist"))

    assert response.status_code == 403
