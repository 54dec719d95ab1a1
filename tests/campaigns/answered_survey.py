"""A survey campaign whose calls answered, built through the services the call's tool and
the post-call analysis use, for the results page's tests."""

from calls.survey_answers import survey_answer_record, survey_answers_from_analysis
from campaigns.models import Campaign
from tests.factories import (
    CallFactory,
    ContactFactory,
    TargetFactory,
    after_visit_survey,
    reminder_campaign,
)


def answered_survey_campaign():
    """Four calls of a survey campaign answering the after-visit survey (and a free-text
    question), through the services the call's tool and the post-call analysis use; one
    call of another campaign of the same survey."""
    campaign = reminder_campaign([])
    survey, questions = after_visit_survey(campaign.organization, with_text_question=True)
    Campaign.objects.filter(pk=campaign.pk).update(kind="survey", purpose="survey", survey=survey)
    campaign.refresh_from_db()
    recommend, rating, when, better = questions
    answers = [
        ("Ana Diaz", True, 9, "morning", "Shorter waits"),
        ("Ben Ng", True, 7, "evening", None),
        ('=HYPERLINK("http://evil.example","Cy")', False, 4, "morning", "=cmd|' /C calc'!A0"),
        ("Dee Roe", None, 10, None, None),
    ]
    for name, *values in answers:
        target = TargetFactory(
            campaign=campaign,
            contact=ContactFactory(organization=campaign.organization, name=name),
        )
        call = CallFactory(target=target)
        for question, value in zip([recommend, rating, when], values, strict=False):
            if value is not None:
                survey_answer_record(
                    call_id=call.pk, question_id=question.pk, kind=question.kind, value=value
                )
        if values[3] is not None:  # the analysis heard the free-text answer
            survey_answers_from_analysis(
                call_id=call.pk, questions=questions, answers={better.pk: values[3]}
            )
    second = Campaign.objects.create(
        organization=campaign.organization,
        name="Second round",
        kind="survey",
        purpose="survey",
        survey=survey,
        agent=campaign.agent,
        caller_id=campaign.caller_id,
    )
    late = CallFactory(target=TargetFactory(campaign=second, contact__name="Eve Late"))
    survey_answer_record(call_id=late.pk, question_id=recommend.pk, kind="yes_no", value="no")
    return campaign, survey
