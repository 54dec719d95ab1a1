"""The agent form, the survey form and the survey results page in a real browser, as an
operator and as a finance user. Screenshots land in var/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from agents.models import Agent
from campaigns.models import Survey
from tests.browser import browser_page, log_in, screenshot
from tests.campaigns.answered_survey import answered_survey_campaign
from tests.factories import member_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_operator_ticks_an_agents_tools_and_types_a_surveys_options(live_server):
    campaign, survey = answered_survey_campaign()
    member_of("operator", "olivia", organization=campaign.organization)

    with browser_page() as page:
        log_in(page, live_server.url, "olivia", "operator")

        page.goto(f"{live_server.url}/admin/agents/agent/add/")
        page.fill("#id_name", "Flu shot reminders")
        page.fill("#id_instructions", "Remind {{ contact.name }} of the flu shot.")
        page.click("text=What it may do")
        page.get_by_label("Record an outcome", exact=False).uncheck()
        page.get_by_label("Record a survey answer", exact=False).check()
        screenshot(page, "agent_form_tools_operator")
        page.click("button[name=_continue]")
        expect(page.locator(".errornote")).to_have_count(0)

        page.goto(f"{live_server.url}/admin/campaigns/survey/add/")
        page.fill("#id_name", "Flu season check-in")
        page.fill("#id_questions-0-position", "1")
        page.select_option("#id_questions-0-kind", "choice")
        page.fill("#id_questions-0-text", "Which clinic suits you?")
        page.fill("#id_questions-0-choices", "North\nSouth\nDowntown")
        screenshot(page, "survey_form_operator")
        page.click("button[name=_continue]")
        expect(page.locator(".errornote")).to_have_count(0)

        page.goto(f"{live_server.url}/admin/campaigns/survey/{survey.pk}/results/")
        page.select_option("#id_campaign", str(campaign.pk))
        expect(page.locator("#answered-calls")).to_contain_text("4 calls answered in")
        expect(page.locator("#question-1 .tally tbody tr").first).to_have_text(
            re.compile(r"\s*Yes\s*2\s*67 %\s*")
        )
        expect(page.locator("#question-2 .average")).to_have_text("7.5")
        expect(page.locator("#question-4 .texts")).to_contain_text("Shorter waits")
        assert page.locator("#question-1 canvas.chart").count() == 1
        screenshot(page, "survey_results_operator")

    # After the browser: Playwright's loop makes the ORM refuse to run inside the block.
    agent = Agent.objects.get(name="Flu shot reminders")
    assert agent.tools == ["end_call", "record_survey_answer", "opt_out", "schedule_callback"]
    question = Survey.objects.get(name="Flu season check-in").questions.get()
    assert question.choices == ["North", "South", "Downtown"]


def test_finance_reads_the_results_and_the_agent_but_cannot_edit_surveys(live_server):
    campaign, survey = answered_survey_campaign()
    member_of("finance", "fred", organization=campaign.organization)

    with browser_page() as page:
        log_in(page, live_server.url, "fred", "finance")

        page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
        page.click("#campaign-actions >> text=Survey results")
        expect(page.locator("#answered-calls")).to_contain_text("4 calls answered in")
        expect(page.locator("#question-3 .tally tbody tr").first).to_have_text(
            re.compile(r"\s*morning\s*2\s*67 %\s*")
        )
        screenshot(page, "survey_results_finance")
        with page.expect_download() as download:
            page.click("#download-csv")
        assert download.value.suggested_filename.endswith("-answers.csv")

        page.goto(f"{live_server.url}/admin/agents/agent/{campaign.agent_id}/change/")
        page.click("text=What it may do")
        expect(page.locator("body")).to_contain_text("Record a survey answer")
        screenshot(page, "agent_form_finance")

        response = page.goto(f"{live_server.url}/admin/campaigns/survey/{survey.pk}/change/")
        assert response.status == 403
