"""What a survey's callers answered: per question a tally (yes/no, choices, a scale's
distribution and average, free text as a list) and a table of one row per call, one
column per question, which the results page shows and its CSV downloads.

Reads only; the answers themselves are written by `calls.survey_answers`. An answer the
call recorded and one the post-call analysis filled in count alike: both are the caller's.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from calls.models import SurveyAnswer
from campaigns.models import Question, Survey

Kind = Question.Kind


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: int  # of the question's answers, rounded


@dataclass(frozen=True)
class TextAnswer:
    call_id: int
    contact: str
    text: str


@dataclass
class QuestionResult:
    question: Question
    answered: int = 0
    bars: list[Bar] = field(default_factory=list)
    average: float | None = None  # scale questions
    texts: list[TextAnswer] = field(default_factory=list)  # free-text questions

    @property
    def kind_label(self) -> str:
        return Question.Kind(self.question.kind).label


@dataclass(frozen=True)
class AnswerRow:
    call_id: int
    called_at: datetime
    campaign: str
    contact: str
    phone: str
    answers: list[str]  # one per question, "" when not answered

    def cells(self) -> list:
        return [
            self.call_id,
            self.called_at.strftime("%Y-%m-%d %H:%M UTC"),
            self.campaign,
            self.contact,
            self.phone,
            *self.answers,
        ]


def answer_text(question: Question, value: bool | int | str | None) -> str:
    """An answer as a person reads it: Yes / No, the scale's number, the words given."""
    if value is None:
        return ""
    if question.kind == Kind.YES_NO:
        return "Yes" if value else "No"
    return str(value)


def survey_answers(*, survey: Survey, campaign_id: int | None = None):
    answers = SurveyAnswer.objects.filter(question__survey=survey)
    if campaign_id is not None:
        answers = answers.filter(call__target__campaign_id=campaign_id)
    return answers


def _bars(labels: list[str], counts: Counter, answered: int) -> list[Bar]:
    return [
        Bar(label, counts[label], round(100 * counts[label] / answered) if answered else 0)
        for label in labels
    ]


def survey_results(*, survey: Survey, campaign_id: int | None = None) -> list[QuestionResult]:
    """One result per question, in the survey's order."""
    questions = list(survey.questions.order_by("position"))
    values: dict[int, list] = {question.pk: [] for question in questions}
    rows = survey_answers(survey=survey, campaign_id=campaign_id)
    texts: dict[int, list[TextAnswer]] = {question.pk: [] for question in questions}
    for answer in rows.select_related("call__target__contact").order_by("-call__created_at"):
        if answer.value is None:
            continue
        values[answer.question_id].append(answer.value)
        contact = answer.call.target.contact if answer.call.target_id else None
        texts[answer.question_id].append(
            TextAnswer(answer.call_id, contact.name if contact else "", str(answer.value))
        )
    results = []
    for question in questions:
        given = values[question.pk]
        result = QuestionResult(question=question, answered=len(given))
        counts = Counter(answer_text(question, value) for value in given)
        if question.kind == Kind.YES_NO:
            result.bars = _bars(["Yes", "No"], counts, len(given))
        elif question.kind == Kind.CHOICE:
            options = [str(choice) for choice in question.choices or []]
            # Answers outside the options (the caller said something else) still count.
            others = sorted(label for label in counts if label not in options)
            result.bars = _bars(options + others, counts, len(given))
        elif question.kind == Kind.SCALE:
            points = [str(point) for point in range(question.scale_min, question.scale_max + 1)]
            others = sorted((label for label in counts if label not in points), key=int)
            result.bars = _bars(points + others, counts, len(given))
            numbers = [int(value) for value in given]
            result.average = round(sum(numbers) / len(numbers), 1) if numbers else None
        else:
            result.texts = texts[question.pk]
        results.append(result)
    return results


def survey_answer_header(survey: Survey) -> list[str]:
    questions = survey.questions.order_by("position")
    return [
        "Call",
        "Called at",
        "Campaign",
        "Contact",
        "Phone",
        *[f"{question.position}. {question.text}" for question in questions],
    ]


def survey_answer_rows(
    *, survey: Survey, campaign_id: int | None = None, limit: int | None = None
) -> list[AnswerRow]:
    """One row per call that answered at least one question, newest first."""
    questions = list(survey.questions.order_by("position"))
    answers = survey_answers(survey=survey, campaign_id=campaign_id).select_related(
        "call__target__campaign", "call__target__contact"
    )
    by_call: dict[int, dict[int, SurveyAnswer]] = {}
    calls = {}
    for answer in answers:
        by_call.setdefault(answer.call_id, {})[answer.question_id] = answer
        calls[answer.call_id] = answer.call
    ordered = sorted(calls.values(), key=lambda call: (call.created_at, call.pk), reverse=True)
    if limit is not None:
        ordered = ordered[:limit]
    rows = []
    for call in ordered:
        target = call.target
        given = by_call[call.pk]
        rows.append(
            AnswerRow(
                call_id=call.pk,
                called_at=call.created_at,
                campaign=target.campaign.name if target else "",
                contact=target.contact.name if target else "",
                phone=target.contact.phone if target else call.from_number,
                answers=[
                    answer_text(question, given[question.pk].value) if question.pk in given else ""
                    for question in questions
                ],
            )
        )
    return rows


def survey_answer_call_count(*, survey: Survey, campaign_id: int | None = None) -> int:
    return (
        survey_answers(survey=survey, campaign_id=campaign_id)
        .values("call_id")
        .distinct()
        .order_by()
        .count()
    )
