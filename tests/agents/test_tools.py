"""The tool registry and the built-in tools, called as the bridge calls them."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async

from agents.prompts import SurveyLine
from agents.tools import After, CallContext, ToolFailed, ToolSpec, default_registry
from calls.models import Call, CallStatus, SurveyAnswer
from campaigns.models import Question, Suppression, Survey
from tests.factories import CallFactory, ConsentFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ALL = [
    "end_call",
    "record_outcome",
    "record_survey_answer",
    "opt_out",
    "schedule_callback",
    "slow",
    "broken",
]


@sync_to_async
def a_call():
    call = CallFactory(carrier_sid="CA" + "1" * 32, status=CallStatus.IN_PROGRESS)
    ConsentFactory(contact=call.target.contact)
    return call


def context_for(call, **overrides):
    return CallContext(
        call_id=call.pk,
        call_sid=call.carrier_sid,
        organization_id=call.organization_id,
        time_zone="America/New_York",
        phone=call.to_number,
        caller_id=call.from_number,
        target_id=call.target_id,
        **{"survey": {"4": SurveyLine("4", "scale", "Rate us", scale_min=1, scale_max=5)}}
        | overrides,
    )


def registry_with_failing_tools():
    registry = default_registry()

    def slow(context, arguments, at):
        time.sleep(2)
        return None

    def broken(context, arguments, at):
        raise RuntimeError("database on fire")

    registry.register(ToolSpec("slow", "Slow.", {"type": "object"}, slow, timeout_seconds=0.2))
    registry.register(ToolSpec("broken", "Broken.", {"type": "object"}, broken))
    return registry


@sync_to_async
def reloaded(call):
    return Call.objects.get(pk=call.pk)


async def test_it_returns_errors_for_bad_arguments_exceptions_and_timeouts():
    call = await a_call()
    registry = registry_with_failing_tools()

    async def run(name, arguments):
        return await registry.call(name, arguments, context=context_for(call), enabled=ALL, at=AT)

    assert (await run("record_outcome", '{"outcome": "maybe"}')).output == {
        "error": "Invalid arguments: arguments.outcome must be one of: confirmed, declined, "
        "reschedule_requested, wrong_person, callback_requested, other."
    }
    assert (await run("record_outcome", "{not json")).output == {
        "error": "The arguments are not valid JSON."
    }
    assert (await run("broken", "{}")).output == {"error": "The broken tool failed: RuntimeError."}
    assert (await run("slow", "{}")).output == {"error": "The slow tool did not finish in time."}
    assert (await run("transfer_to_human", "{}")).output == {
        "error": "There is no tool named 'transfer_to_human' on this call."
    }
    assert (await reloaded(call)).outcome == ""


async def test_it_offers_only_the_tools_enabled_on_the_agent():
    offered = default_registry().offered(["opt_out", "end_call"])

    assert [tool["name"] for tool in offered] == ["opt_out", "end_call"]
    assert all(tool["type"] == "function" for tool in offered)


@sync_to_async
def a_scale_question(call) -> Question:
    survey = Survey.objects.create(organization=call.organization, name="Visit")
    return Question.objects.create(
        survey=survey, position=1, kind="scale", text="Rate us", scale_min=1, scale_max=5
    )


@sync_to_async
def survey_rows(call):
    return [
        (row.question_id, row.source, row.value) for row in SurveyAnswer.objects.filter(call=call)
    ]


async def test_it_records_an_outcome_and_a_survey_answer_on_the_call():
    call = await a_call()
    question = await a_scale_question(call)
    registry = default_registry()
    line = SurveyLine(str(question.pk), "scale", "Rate us", scale_min=1, scale_max=5)
    context = context_for(call, survey={line.question_id: line})

    outcome = await registry.call(
        "record_outcome",
        json.dumps({"outcome": "declined", "note": "Moved away"}),
        context=context,
        enabled=ALL,
        at=AT,
    )
    answer = await registry.call(
        "record_survey_answer",
        json.dumps({"question_id": question.pk, "answer": "5"}),
        context=context,
        enabled=ALL,
        at=AT,
    )
    out_of_range = await registry.call(
        "record_survey_answer",
        json.dumps({"question_id": str(question.pk), "answer": "9"}),
        context=context,
        enabled=ALL,
        at=AT,
    )

    assert outcome.after is After.RESPOND
    assert answer.output == {"status": "recorded", "question_id": str(question.pk), "answer": 5}
    assert out_of_range.output == {
        "error": f"Question {question.pk} takes a number from 1 to 5, not 9."
    }
    stored = await reloaded(call)
    assert stored.outcome == "declined"
    assert stored.result == {"note": "Moved away", "survey": {str(question.pk): 5}}
    # One typed row for the question, ready to tally, marked as recorded during the call.
    assert await survey_rows(call) == [(question.pk, "call", 5)]


async def test_it_opts_out_by_revoking_consent_and_suppressing_the_number():
    call = await a_call()

    result = await default_registry().call(
        "opt_out", "{}", context=context_for(call), enabled=ALL, at=AT
    )

    assert result.after is After.RESPOND_THEN_END
    suppressed = await sync_to_async(
        Suppression.objects.filter(
            organization_id=call.organization_id, phone=call.to_number
        ).exists
    )()
    assert suppressed
    assert (await reloaded(call)).outcome == "opted_out"


async def test_it_schedules_a_callback_at_a_lawful_time():
    call = await a_call()
    registry = default_registry()
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)

    result = await registry.call(
        "schedule_callback",
        json.dumps({"when": when.isoformat()}),
        context=context_for(call),
        enabled=ALL,
        at=datetime.now(UTC),
    )
    past = await registry.call(
        "schedule_callback",
        json.dumps({"when": "2020-01-01T10:00"}),
        context=context_for(call),
        enabled=ALL,
        at=datetime.now(UTC),
    )

    assert "error" not in result.output
    stored = await reloaded(call)
    assert stored.outcome == "callback_requested"
    assert stored.result["callback"]["requested_at"] == when.isoformat()
    assert "lawful_at" in stored.result["callback"]
    assert past.output == {"error": "That time has already passed; ask for a later one."}


def test_it_rejects_answers_a_question_does_not_take():
    from agents.tools import survey_answer_normalised

    yes_no = SurveyLine("1", "yes_no", "Happy?")
    choice = SurveyLine("2", "choice", "When?", choices=("Morning", "Evening"))

    assert survey_answer_normalised(yes_no, "Yes") == "yes"
    assert survey_answer_normalised(choice, "evening") == "Evening"
    with pytest.raises(ToolFailed):
        survey_answer_normalised(yes_no, "perhaps")
    with pytest.raises(ToolFailed):
        survey_answer_normalised(choice, "noon")


def test_it_never_blocks_the_loop_while_a_tool_runs():
    registry = registry_with_failing_tools()
    call = CallFactory(carrier_sid="CA" + "2" * 32)

    async def both():
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await registry.call("slow", "{}", context=context_for(call), enabled=ALL, at=AT)
        ticker.cancel()
        return ticks

    assert asyncio.run(both()) > 0
