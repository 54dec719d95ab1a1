"""The agent's admin form: tools ticked as checkboxes, turn detection as fields; stored as
the calls and the API read them."""

import re

import pytest
from django.urls import reverse

from agents.models import Agent
from tests.factories import AgentFactory, CampaignFactory, after_visit_survey, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def agent_form(**overrides) -> dict:
    return {
        "name": "Flu shot reminders",
        "instructions": "Remind {{ contact.name }} of the flu shot on {{ appointment }}.",
        "greeting": "",
        "voicemail_message": "",
        "tools": ["end_call", "record_outcome", "opt_out"],
        "transfer_number": "",
        "opt_out_digit": "9",
        "voice": "marin",
        "language": "en",
        "model": "",
        "turn_type": "server_vad",
        "turn_threshold": "0.6",
        "turn_silence_ms": "700",
        "turn_padding_ms": "300",
        "max_call_seconds": "600",
        "max_cost_per_call": "",
        **overrides,
    }


@pytest.fixture
def operator_client(client):
    client.force_login(member_of("operator", "olivia"))
    return client


def test_it_saves_the_ticked_tools_and_the_turn_fields(operator_client):
    response = operator_client.post(reverse("admin:agents_agent_add"), agent_form())

    assert response.status_code == 302, text_of(response)
    agent = Agent.objects.get(name="Flu shot reminders")
    assert agent.tools == ["end_call", "record_outcome", "opt_out"]
    assert agent.turn_detection == {
        "type": "server_vad",
        "threshold": 0.6,
        "silence_duration_ms": 700,
        "prefix_padding_ms": 300,
    }


def test_it_rejects_a_tool_that_does_not_exist(operator_client):
    response = operator_client.post(
        reverse("admin:agents_agent_add"), agent_form(tools=["end_call", "launch_missiles"])
    )

    assert response.status_code == 200
    assert "Select a valid choice. launch_missiles is not one of the available choices." in (
        text_of(response)
    )
    assert not Agent.objects.filter(name="Flu shot reminders").exists()


def test_transfer_to_a_person_without_a_number_is_refused_on_the_number(operator_client):
    response = operator_client.post(
        reverse("admin:agents_agent_add"), agent_form(tools=["end_call", "transfer_to_human"])
    )

    assert response.status_code == 200
    assert "Transfer to a person needs a number." in text_of(response)
    assert not Agent.objects.filter(name="Flu shot reminders").exists()


def test_the_change_form_shows_each_tool_with_its_label_and_help_ticked_as_stored(
    operator_client,
):
    agent = AgentFactory(name="Surveys", tools=["end_call", "record_survey_answer"])

    page = operator_client.get(reverse("admin:agents_agent_change", args=[agent.pk]))

    html = page.content.decode()
    text = text_of(page)
    assert "Record a survey answer: stores each survey answer as it is given" in text
    assert 'value="record_survey_answer"' in html
    boxes = re.findall(r"<input[^>]*name=\"tools\"[^>]*>", html)
    ticked = [
        re.search(r'value="(\w+)"', box)[1] for box in boxes if re.search(r"\schecked[\s/>]", box)
    ]
    assert len(boxes) == 6
    assert ticked == ["end_call", "record_survey_answer"]


def test_semantic_detection_drops_the_silence_settings_and_keeps_others(operator_client):
    agent = AgentFactory(
        name="Patient",
        turn_detection={"type": "server_vad", "threshold": 0.5, "idle_timeout_ms": 6000},
    )

    response = operator_client.post(
        reverse("admin:agents_agent_change", args=[agent.pk]),
        agent_form(name="Patient", turn_type="semantic_vad"),
    )

    assert response.status_code == 302, text_of(response)
    agent.refresh_from_db()
    assert agent.turn_detection == {"type": "semantic_vad"}


def test_finance_reads_the_agents_tools_and_turns_in_words(client):
    agent = AgentFactory(
        name="Surveys",
        tools=["end_call", "record_survey_answer"],
        turn_detection={"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 500},
    )
    client.force_login(member_of("finance", "fred"))

    page = client.get(reverse("admin:agents_agent_change", args=[agent.pk]))

    assert page.status_code == 200
    text = text_of(page)
    assert "End the call: hangs up politely once the conversation is over" in text
    assert "Record a survey answer: stores each survey answer as it is given" in text
    assert "Record an outcome" not in text
    assert "After a pause in speech (silence detection); sensitivity 0.5, pause (ms) 500" in text
    assert 'name="tools"' not in page.content.decode()


def test_unticking_the_survey_tool_of_an_agent_a_live_survey_campaign_uses_is_refused(
    operator_client,
):
    agent = AgentFactory(name="Surveys", tools=["end_call", "record_survey_answer"])
    survey, _ = after_visit_survey(agent.organization)
    CampaignFactory(
        organization=agent.organization,
        name="After-visit survey",
        kind="survey",
        purpose="survey",
        survey=survey,
        agent=agent,
    )

    response = operator_client.post(
        reverse("admin:agents_agent_change", args=[agent.pk]),
        agent_form(name="Surveys", tools=["end_call"]),
    )

    assert response.status_code == 200
    assert (
        "“Record a survey answer” is needed by the survey campaign(s) 'After-visit survey', "
        "which use this agent; keep it ticked, or give those campaigns another agent first."
    ) in text_of(response)
    agent.refresh_from_db()
    assert agent.tools == ["end_call", "record_survey_answer"]
