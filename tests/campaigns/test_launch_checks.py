"""A campaign that cannot do its job is refused at save and at launch, with the fix named:
a survey campaign whose agent cannot record answers, an agent that may transfer without a
number; contacts lacking a variable the agent speaks of are counted in a warning."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from agents.models import Agent, Tool, default_tools
from calls.models import Call
from campaigns.models import Campaign
from tests.factories import (
    ContactFactory,
    TargetFactory,
    after_visit_survey,
    member_of,
    reminder_campaign,
)

pytestmark = pytest.mark.django_db

NO_SURVEY_TOOL = (
    "cannot record survey answers, so this survey campaign would collect none: tick “Record a "
    "survey answer” in the agent's tools, or choose an agent that has it."
)


def survey_campaign_without_the_survey_tool() -> Campaign:
    """As an operator could have made it before the check existed, or through an agent
    edited since: the row is written without the model's validation."""
    campaign = reminder_campaign(["survey"], tools=default_tools())
    survey, _ = after_visit_survey(campaign.organization)
    Campaign.objects.filter(pk=campaign.pk).update(kind="survey", purpose="survey", survey=survey)
    return Campaign.objects.get(pk=campaign.pk)


def launch_in_admin(client, campaign):
    return client.post(
        reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, "launch"]), follow=True
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_admin_refuses_to_launch_a_survey_campaign_whose_agent_cannot_record_answers(client):
    campaign = survey_campaign_without_the_survey_tool()
    client.force_login(member_of("operator", "olivia"))

    response = launch_in_admin(client, campaign)

    assert f"The agent 'Reminders' {NO_SURVEY_TOOL}" in messages_of(response)
    campaign.refresh_from_db()
    assert campaign.status == "draft"
    assert not Call.objects.exists()


def test_the_api_refuses_the_same_launch_with_a_409_naming_the_fix():
    campaign = survey_campaign_without_the_survey_tool()
    api = APIClient()
    api.force_authenticate(member_of("operator", "olivia"))

    response = api.post(f"/api/campaigns/{campaign.pk}/launch/")

    assert response.status_code == 409
    assert f"The agent 'Reminders' {NO_SURVEY_TOOL}" in str(response.json())
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_the_survey_campaign_launches_once_the_agent_has_the_tool(client):
    campaign = survey_campaign_without_the_survey_tool()
    Agent.objects.filter(pk=campaign.agent_id).update(
        tools=[*default_tools(), Tool.RECORD_SURVEY_ANSWER]
    )
    client.force_login(member_of("operator", "olivia"))

    response = launch_in_admin(client, campaign)

    assert f"Campaign {campaign.name!r} is now running." in messages_of(response)
    assert Campaign.objects.get(pk=campaign.pk).status == "running"


def test_an_agent_that_may_transfer_without_a_number_is_refused_at_launch():
    campaign = reminder_campaign(["confirm"], tools=[*default_tools(), Tool.TRANSFER_TO_HUMAN])
    api = APIClient()
    api.force_authenticate(member_of("operator", "olivia"))

    response = api.post(f"/api/campaigns/{campaign.pk}/launch/")

    assert response.status_code == 409
    assert (
        "The agent 'Reminders' may transfer calls to a person but has no transfer number: set "
        "one on the agent, or untick “Transfer to a person”."
    ) in str(response.json())


def test_a_survey_campaign_with_an_agent_lacking_the_tool_cannot_be_saved_in_the_admin(client):
    campaign = reminder_campaign(["confirm"], tools=default_tools())
    survey, _ = after_visit_survey(campaign.organization)
    client.force_login(member_of("operator", "olivia"))

    response = client.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "name": "After-visit survey",
            "kind": "survey",
            "purpose": "survey",
            "agent": campaign.agent_id,
            "survey": survey.pk,
            "caller_id": campaign.caller_id_id,
            "window_start": "09:00",
            "window_end": "20:00",
            "weekdays": "[0, 1, 2, 3, 4]",
            "max_concurrent_calls": 5,
            "calls_per_second": "1",
            "max_attempts": 3,
            "retry_delays": '{"busy": 1800}',
        },
    )

    assert response.status_code == 200  # the form again, not a redirect
    assert NO_SURVEY_TOOL in response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert not Campaign.objects.filter(name="After-visit survey").exists()


def test_a_launch_warns_with_the_count_of_contacts_lacking_a_variable_the_agent_uses(client):
    campaign = reminder_campaign(["confirm", "decline"])  # both have {{ appointment }}
    for index in range(3):
        TargetFactory(
            campaign=campaign,
            contact=ContactFactory(organization=campaign.organization, name=f"New {index}"),
        )
    client.force_login(member_of("operator", "olivia"))

    response = launch_in_admin(client, campaign)

    warning = (
        "3 of 5 contact(s) have no “appointment” variable, which the agent 'Reminders' uses "
        "({{ appointment }}): on those calls it will say nothing in its place."
    )
    assert any(message.startswith(warning) for message in messages_of(response))
    assert Campaign.objects.get(pk=campaign.pk).status == "running"  # a warning, not a refusal


def test_the_api_launch_answers_the_same_warning():
    campaign = reminder_campaign(["confirm"])
    TargetFactory(campaign=campaign, contact=ContactFactory(organization=campaign.organization))
    api = APIClient()
    api.force_authenticate(member_of("operator", "olivia"))

    response = api.post(f"/api/campaigns/{campaign.pk}/launch/")

    assert response.status_code == 200
    [warning] = response.json()["launch_warnings"]
    assert warning.startswith("1 of 2 contact(s) have no “appointment” variable")


def test_a_launch_with_every_variable_present_warns_of_nothing():
    campaign = reminder_campaign(["confirm", "decline"])
    api = APIClient()
    api.force_authenticate(member_of("operator", "olivia"))

    response = api.post(f"/api/campaigns/{campaign.pk}/launch/")

    assert response.json()["launch_warnings"] == []
