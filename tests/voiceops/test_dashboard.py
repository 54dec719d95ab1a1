"""The console's home page: running campaigns, spend against budgets for cost readers only,
live calls with "End call" for those who may end them, recent failures, in words."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.models import CallStatus
from campaigns.models import Campaign, Target
from tests.factories import (
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    TargetFactory,
    default_organization,
    member_of,
)
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(member_of(role, role))
    return client


@pytest.fixture
def busy_day():
    organization = default_organization()
    organization.daily_budget = Decimal("10.00")
    organization.monthly_budget = Decimal("200.00")
    organization.save()
    campaign = CampaignFactory(name="Flu shots", status=Campaign.Status.RUNNING)
    TargetFactory(campaign=campaign, status=Target.Status.DONE, outcome="confirmed")
    TargetFactory.create_batch(3, campaign=campaign)
    live = CallFactory(
        target__campaign=campaign,
        target__contact__name="Ada Live",
        status=CallStatus.IN_PROGRESS,
        carrier_sid="CA" + "1" * 32,
    )
    CallFactory(
        target__campaign=campaign,
        target__contact__name="Bob Failed",
        status=CallStatus.FAILED,
        hangup_reason="carrier_timeout",
        ended_at=timezone.now() - timedelta(hours=1),
        cost_total=Decimal("2.500000"),
    )
    elsewhere = CampaignFactory(
        organization=OrganizationFactory(), name="Other org", status=Campaign.Status.RUNNING
    )
    CallFactory(
        target__campaign=elsewhere, status=CallStatus.IN_PROGRESS, carrier_sid="CA" + "2" * 32
    )
    return campaign, live


def test_it_shows_finance_the_spend_against_the_budgets(busy_day):
    page = text_of(signed_in("finance").get("/admin/"))
    assert "Today 2.50 USD of 10.00 USD budget · 7.50 left" in page
    assert "This month 2.50 USD of 200.00 USD budget" in page
    assert "Flu shots" in page
    assert "1 of 6 settled (16 %)" in page  # two more targets hold the calls
    assert "Other org" not in page


def test_it_shows_an_operator_no_money(busy_day):
    response = signed_in("operator").get("/admin/")
    page = text_of(response)
    assert "USD" not in page
    assert "budget" not in page.lower()
    assert "Flu shots" in page


def test_it_lists_live_calls_and_lets_operators_not_finance_end_them(busy_day):
    _, live = busy_day
    operator_page = signed_in("operator").get("/admin/").content.decode()
    assert f'data-end-call="{live.pk}"' in operator_page
    assert "Ada Live" in operator_page
    assert operator_page.count("data-end-call=") == 1  # not the other organisation's call

    finance_page = signed_in("finance").get("/admin/").content.decode()
    assert "Ada Live" in finance_page
    assert "data-end-call=" not in finance_page


def test_it_lists_recent_failures_with_the_reason_in_words(busy_day):
    page = text_of(signed_in("operator").get("/admin/"))
    assert "Bob Failed" in page
    assert "Carrier did not answer the dial request" in page
    assert "carrier_timeout" not in page


def test_the_refetched_tables_hold_only_the_organisations_calls(busy_day):
    _, live = busy_day
    CallFactory(
        target__campaign=Campaign.objects.get(name="Other org"),
        target__contact__name="Eve Elsewhere",
        status=CallStatus.FAILED,
        ended_at=timezone.now() - timedelta(hours=1),
    )
    operator = signed_in("operator")

    live_calls = operator.get("/admin/dashboard/live-calls/").content.decode()
    failed = text_of(operator.get("/admin/dashboard/failed-calls/"))

    assert f'data-end-call="{live.pk}"' in live_calls
    assert live_calls.count("data-end-call=") == 1  # not the other organisation's call
    assert "Bob Failed" in failed
    assert "Eve Elsewhere" not in failed


def test_the_dashboard_names_each_live_calls_campaign_and_a_campaign_page_does_not_repeat_it(
    busy_day,
):
    campaign, _live = busy_day
    operator = signed_in("operator")

    dashboard = text_of(operator.get("/admin/dashboard/live-calls/"))
    on_campaign_page = text_of(
        operator.get(reverse("admin:campaigns_campaign_live_calls", args=[campaign.pk]))
    )

    assert "Campaign" in dashboard
    assert "Flu shots" in dashboard
    assert "Ada Live" in on_campaign_page
    assert "Campaign" not in on_campaign_page
    assert "Flu shots" not in on_campaign_page


def test_there_is_no_view_site_link_to_a_missing_site(busy_day):
    assert "View site" not in text_of(signed_in("operator").get("/admin/"))


def test_the_site_root_leads_to_the_console():
    response = Client().get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_finance_cannot_end_a_call(busy_day):
    _, live = busy_day
    response = signed_in("finance").post(f"/admin/calls/call/{live.pk}/end/")
    assert response.status_code == 403


def test_an_operator_cannot_end_another_organisations_call(busy_day):
    other_call = CallFactory(
        target__campaign=CampaignFactory(organization=OrganizationFactory()),
        status=CallStatus.IN_PROGRESS,
        carrier_sid="CA" + "3" * 32,
    )
    response = signed_in("operator").post(f"/admin/calls/call/{other_call.pk}/end/")
    assert response.status_code == 404


def test_the_sidebar_shows_each_role_its_own_pages():
    finance = signed_in("finance").get("/admin/").content.decode()
    operator = signed_in("operator").get("/admin/").content.decode()
    assert 'href="/admin/calls/campaigndailycost/report/"' in finance
    assert 'href="/admin/calls/costentry/"' in finance
    assert 'href="/admin/calls/campaigndailycost/report/"' not in operator
    assert 'href="/admin/calls/costentry/"' not in operator
    assert 'href="/admin/campaigns/contact/"' in operator
    assert 'href="/admin/campaigns/contact/"' not in finance
