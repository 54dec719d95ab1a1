"""The campaign form: weekdays as checkboxes, retry delays in hours and minutes (stored as
a weekday list and seconds, as the API stores them), and only what the status allows
editable, the same rule as the API's."""

from decimal import Decimal

import pytest
from django.test import Client

from campaigns.models import Campaign
from tests.factories import AgentFactory, CampaignFactory, PhoneNumberFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def operator() -> Client:
    client = Client()
    client.force_login(member_of("operator", "olivia"))
    return client


def form_data(campaign: Campaign, **changes) -> dict:
    data = {
        "name": campaign.name,
        "kind": campaign.kind,
        "purpose": campaign.purpose,
        "agent": campaign.agent_id,
        "survey": "",
        "caller_id": campaign.caller_id_id,
        "window_start": "09:00:00",
        "window_end": "20:00:00",
        "weekdays": [0, 1, 2, 3, 4],
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "max_concurrent_calls": "5",
        "calls_per_second": "1",
        "max_attempts": "3",
        "retry_no_answer_0": "4",
        "retry_no_answer_1": "0",
        "retry_busy_0": "0",
        "retry_busy_1": "30",
        "retry_failed_0": "1",
        "retry_failed_1": "0",
        "retry_voicemail_0": "24",
        "retry_voicemail_1": "0",
        "retry_no_outcome_0": "",
        "retry_no_outcome_1": "",
        "budget": "",
    }
    data.update(changes)
    return data


def save(client: Client, campaign: Campaign, **changes):
    return client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/", form_data(campaign, **changes)
    )


def test_weekdays_are_checkboxes_stored_as_the_list_of_days():
    campaign = CampaignFactory()
    client = operator()
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert 'type="checkbox" name="weekdays" value="5"' in page
    assert "Saturday" in page

    response = save(client, campaign, weekdays=["1", "3", "5"])
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.weekdays == [1, 3, 5]


def test_no_weekday_is_refused_in_words():
    campaign = CampaignFactory()
    response = save(operator(), campaign, weekdays=[])
    assert response.status_code == 200
    assert "Pick at least one weekday." in text_of(response)


def test_retry_delays_are_typed_in_hours_and_minutes_and_stored_in_seconds():
    campaign = CampaignFactory()
    campaign.retry_delays = {"no_answer": 14400, "busy": 90}  # the API may store odd seconds
    campaign.save()

    response = save(
        operator(),
        campaign,
        retry_no_answer_0="2",
        retry_no_answer_1="15",
        retry_busy_0="0",
        retry_busy_1="1",
        retry_no_outcome_0="0",
        retry_no_outcome_1="45",
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.retry_delays == {
        "no_answer": 2 * 3600 + 15 * 60,
        "busy": 90,  # unchanged on the form (shown as 0 h 1 min): kept to the second
        "failed": 3600,
        "voicemail": 86400,
        "no_outcome": 45 * 60,
    }


def test_minutes_above_59_are_refused():
    campaign = CampaignFactory()
    response = save(operator(), campaign, retry_busy_1="75")
    assert response.status_code == 200
    assert "Minutes go up to 59." in text_of(response)


def test_a_running_campaign_keeps_its_agent_but_may_change_its_budget_and_pacing():
    campaign = CampaignFactory(status=Campaign.Status.RUNNING)
    launched_agent = campaign.agent
    other_agent = AgentFactory(organization=campaign.organization)
    other_number = PhoneNumberFactory(organization=campaign.organization)

    response = save(
        operator(),
        campaign,
        agent=other_agent.pk,
        caller_id=other_number.pk,
        purpose="telemarketing",
        budget="50.00",
        max_concurrent_calls="2",
        name="Flu shots (week 2)",
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.agent == launched_agent
    assert campaign.caller_id_id != other_number.pk
    assert campaign.purpose == "informational"
    assert campaign.budget == Decimal("50.00")
    assert campaign.max_concurrent_calls == 2
    assert campaign.name == "Flu shots (week 2)"


def test_the_page_says_which_fields_are_fixed_while_running():
    campaign = CampaignFactory(status=Campaign.Status.RUNNING)
    page = text_of(operator().get(f"/admin/campaigns/campaign/{campaign.pk}/change/"))
    assert "Fixed while the campaign is running." in page


def test_finance_reads_the_settings_in_words():
    campaign = CampaignFactory(weekdays=[0, 2], retry_delays={"busy": 1800})
    client = Client()
    client.force_login(member_of("finance", "fiona"))
    page = text_of(client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/"))
    assert "Monday, Wednesday" in page
    assert "Line busy: 30 min" in page
    assert "No answer: 1 h" in page
