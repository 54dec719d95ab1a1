"""Survey answers as rows: one per question per call, typed by the question's kind.

The call records its answers as they are given (the `record_survey_answer` tool); the
post-call analysis fills the questions the call left open and, where it heard something
else, keeps its answer beside the call's rather than over it.
"""

from django.db import transaction
from django.db.models import Count

from calls.models import SurveyAnswer
from campaigns.models import Question

Kind = Question.Kind


def typed_columns(*, kind: str, value: bool | int | str) -> dict:
    """The answer's columns for a question of `kind`. Yes/no answers may come as the tool's
    "yes" / "no" or as booleans."""
    columns = {"boolean_value": None, "integer_value": None, "text_value": ""}
    if kind == Kind.YES_NO:
        columns["boolean_value"] = value if isinstance(value, bool) else str(value) == "yes"
    elif kind == Kind.SCALE:
        columns["integer_value"] = int(value)
    else:
        columns["text_value"] = str(value)
    return columns


def survey_answer_record(
    *, call_id: int, question_id: int, kind: str, value: bool | int | str
) -> None:
    """Store the answer the call recorded (it wins over the analysis's). Idempotent: a
    repeat, or a corrected answer, replaces the row."""
    SurveyAnswer.objects.update_or_create(
        call_id=call_id,
        question_id=question_id,
        defaults={
            "source": SurveyAnswer.Source.CALL,
            "analysis_value": None,
            **typed_columns(kind=kind, value=value),
        },
    )


def survey_answers_from_analysis(
    *, call_id: int, questions: list[Question], answers: dict[int, bool | int | str | None]
) -> None:
    """Replace the analysis's share of the call's answers: its own rows, and its notes of
    disagreement on the call's rows. `answers` maps question ids to the analysis's typed
    answer (None: not answered)."""
    with transaction.atomic():
        SurveyAnswer.objects.filter(call_id=call_id, source=SurveyAnswer.Source.ANALYSIS).delete()
        recorded = {
            answer.question_id: answer
            for answer in SurveyAnswer.objects.select_for_update().filter(call_id=call_id)
        }
        for question in questions:
            value = answers.get(question.pk)
            answer = recorded.get(question.pk)
            if answer is not None:
                disputed = value is not None and answer.value != _stored_value(question, value)
                answer.analysis_value = value if disputed else None
                answer.save(update_fields=["analysis_value"])
            elif value is not None:
                SurveyAnswer.objects.create(
                    call_id=call_id,
                    question=question,
                    source=SurveyAnswer.Source.ANALYSIS,
                    **typed_columns(kind=question.kind, value=value),
                )


def _stored_value(question: Question, value) -> bool | int | str | None:
    return SurveyAnswer(**typed_columns(kind=question.kind, value=value)).value


def survey_tallies(*, organization_id: int, survey_id: int) -> dict[int, dict]:
    """Per question of the survey: how many calls gave each answer. Scoped to the
    organisation that owns the survey."""
    rows = (
        SurveyAnswer.objects.filter(
            question__survey_id=survey_id, question__survey__organization_id=organization_id
        )
        .values("question_id", "boolean_value", "integer_value", "text_value")
        .annotate(calls=Count("id"))
        .order_by("question_id", "-calls")
    )
    tallies: dict[int, dict] = {}
    for row in rows:
        value = SurveyAnswer(
            boolean_value=row["boolean_value"],
            integer_value=row["integer_value"],
            text_value=row["text_value"],
        ).value
        tallies.setdefault(row["question_id"], {})[value] = row["calls"]
    return tallies
