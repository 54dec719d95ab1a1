"""The survey form (question options typed one per line) and the survey results page with
its CSV, through the Django test client."""

import csv
import io

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Question, Survey
from tests.campaigns.answered_survey import answered_survey_campaign
from tests.factories import (
    OrganizationFactory,
    after_visit_survey,
    member_of,
)
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def survey_form(*questions: dict) -> dict:
    data = {
        "name": "After your visit",
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for index, question in enumerate(questions):
        fields = {"scale_min": "1", "scale_max": "5", "choices": "", **question}
        data.update({f"questions-{index}-{name}": value for name, value in fields.items()})
    return data


def test_question_options_typed_one_per_line_are_stored_as_a_list(client):
    client.force_login(member_of("operator", "olivia"))

    response = client.post(
        reverse("admin:campaigns_survey_add"),
        survey_form(
            {
                "position": "1",
                "kind": "choice",
                "text": "When should we call?",
                "choices": "morning\r\n  afternoon \r\n\r\nevening\r\n",
            },
            {
                "position": "2",
                "kind": "scale",
                "text": "How was it?",
                "scale_min": "0",
                "scale_max": "10",
            },
        ),
    )

    assert response.status_code == 302, text_of(response)
    choice, scale = Survey.objects.get(name="After your visit").questions.order_by("position")
    assert choice.choices == ["morning", "afternoon", "evening"]
    assert (scale.choices, scale.scale_min, scale.scale_max) == ([], 0, 10)

    page = client.get(reverse("admin:campaigns_survey_change", args=[choice.survey_id]))
    assert "morning\nafternoon\nevening</textarea>" in page.content.decode()


@pytest.mark.parametrize(
    ("question", "error"),
    [
        (
            {"kind": "choice", "choices": "only one"},
            "A choice question needs at least two options.",
        ),
        (
            {"kind": "choice", "choices": "yes\nno\nyes"},
            "Each option once: yes repeats.",
        ),
        (
            {"kind": "yes_no", "choices": "maybe\nperhaps"},
            "Options are for choice questions; this one is “Yes / no”.",
        ),
    ],
)
def test_bad_options_are_refused_with_the_reason_and_nothing_is_saved(client, question, error):
    client.force_login(member_of("operator", "olivia"))

    response = client.post(
        reverse("admin:campaigns_survey_add"),
        survey_form({"position": "1", "text": "When should we call?", **question}),
    )

    assert response.status_code == 200
    assert error in text_of(response)
    assert not Survey.objects.exists()


@pytest.fixture
def answered_survey():
    return answered_survey_campaign()


def results_url(survey, campaign=None):
    url = reverse("admin:campaigns_survey_results", args=[survey.pk])
    return f"{url}?campaign={campaign.pk}" if campaign else url


def test_the_results_page_tallies_each_question_of_the_campaign(client, answered_survey):
    campaign, survey = answered_survey
    client.force_login(member_of("operator", "olivia"))

    page = client.get(results_url(survey, campaign))

    assert page.status_code == 200
    text = text_of(page)
    assert "4 calls answered in" in text
    results = {result.question.position: result for result, _ in page.context["results"]}
    bars = {
        position: [(bar.label, bar.count, bar.percent) for bar in result.bars]
        for position, result in results.items()
    }
    assert bars[1] == [("Yes", 2, 67), ("No", 1, 33)]
    assert bars[2] == [
        (str(point), {4: 1, 7: 1, 9: 1, 10: 1}.get(point, 0), 25 if point in (4, 7, 9, 10) else 0)
        for point in range(1, 11)
    ]
    assert results[2].average == 7.5
    assert bars[3] == [("morning", 2, 67), ("afternoon", 0, 0), ("evening", 1, 33)]
    assert sorted(answer.text for answer in results[4].texts) == [
        "=cmd|' /C calc'!A0",
        "Shorter waits",
    ]
    assert "Yes 2 67 % No 1 33 %" in text
    assert "average 7.5 on a scale of 1 to 10" in text
    assert "“Shorter waits” — Ana Diaz" in text


def test_without_a_campaign_it_counts_every_campaign_of_the_survey(client, answered_survey):
    _, survey = answered_survey
    client.force_login(member_of("finance", "fred"))

    page = client.get(results_url(survey))

    assert page.status_code == 200
    results = {result.question.position: result for result, _ in page.context["results"]}
    assert [(bar.label, bar.count) for bar in results[1].bars] == [("Yes", 2), ("No", 2)]
    assert "5 calls answered across every campaign of this survey." in text_of(page)
    # Finance may read results but not open surveys: the page links no survey list.
    survey_list = reverse("admin:campaigns_survey_changelist")
    assert f'href="{survey_list}"' not in page.content.decode()


def test_the_csv_has_one_row_per_call_and_equals_the_page_table(client, answered_survey):
    campaign, survey = answered_survey
    client.force_login(member_of("finance", "fred"))

    page = client.get(results_url(survey, campaign))
    download = client.get(
        reverse("admin:campaigns_survey_results_csv", args=[survey.pk]),
        {"campaign": campaign.pk},
    )

    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header == [
        "Call",
        "Called at",
        "Campaign",
        "Contact",
        "Phone",
        "1. Would you recommend us to a friend?",
        "2. On a scale from one to ten, how would you rate your visit?",
        "3. Should we call you in the morning, afternoon or evening?",
        "4. Is there anything we could do better?",
    ]
    assert sorted([row[3], *row[5:]] for row in body) == sorted(
        [
            ["Ana Diaz", "Yes", "9", "morning", "Shorter waits"],
            ["Ben Ng", "Yes", "7", "evening", ""],
            [
                '\'=HYPERLINK("http://evil.example","Cy")',
                "No",
                "4",
                "morning",
                "'=cmd|' /C calc'!A0",
            ],
            ["Dee Roe", "", "10", "", ""],
        ]
    )
    phones = dict(campaign.targets.values_list("contact__name", "contact__phone"))
    # A leading "+" reads as a formula too, so phone numbers come quoted as text.
    assert all(row[4] == "'" + phones[row[3].removeprefix("'")] for row in body)
    page_rows = [[str(cell) for cell in row] for row in page.context["rows"]]
    csv_as_page = [[cell.removeprefix("'") for cell in row] for row in body]
    assert csv_as_page == page_rows
    assert header == page.context["header"]


def test_a_hostile_answer_stays_text_on_the_page(client, answered_survey):
    campaign, survey = answered_survey
    client.force_login(member_of("operator", "olivia"))

    html = client.get(results_url(survey, campaign)).content.decode()

    assert "=cmd|&#x27; /C calc&#x27;!A0" in html


def test_another_organisations_survey_or_campaign_answers_404(client, answered_survey):
    campaign, survey = answered_survey
    stranger = member_of("operator", "mallory", organization=OrganizationFactory(name="Other"))
    client.force_login(stranger)

    assert client.get(results_url(survey)).status_code == 404
    client.force_login(member_of("operator", "olivia"))
    another_survey = Survey.objects.create(organization=campaign.organization, name="Another")
    Question.objects.create(survey=another_survey, position=1, kind="text", text="Anything?")
    elsewhere = Campaign.objects.create(
        organization=campaign.organization,
        name="Another survey's campaign",
        kind="survey",
        purpose="survey",
        survey=another_survey,
        agent=campaign.agent,
        caller_id=campaign.caller_id,
    )
    assert client.get(results_url(survey, elsewhere)).status_code == 404
    assert client.get(results_url(survey, campaign)).status_code == 200


def test_questions_without_answers_say_so(client):
    organization = OrganizationFactory()
    survey, _ = after_visit_survey(organization)
    client.force_login(member_of("operator", "olivia", organization=organization))

    page = client.get(results_url(survey))

    text = text_of(page)
    assert "0 calls answered" in text
    assert "No call has answered yet." in text
    assert Question.objects.filter(survey=survey).count() == 3


def test_the_questions_of_a_survey_a_launched_campaign_asked_are_shown_but_fixed(
    client, answered_survey
):
    campaign, survey = answered_survey
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    client.force_login(member_of("operator", "olivia"))

    page = client.get(reverse("admin:campaigns_survey_change", args=[survey.pk]))

    text = text_of(page)
    assert "Would you recommend us to a friend?" in text
    assert 'name="questions-0-text"' not in page.content.decode()
    assert "Add another Question" not in text
