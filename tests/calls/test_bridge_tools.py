"""Tool calls during a call: a failing tool answers the model with an error; the call goes on."""

import json

import pytest
from asgiref.sync import sync_to_async

from calls.models import Call, CallEvent
from campaigns.models import Question, Survey
from tests.calls.conftest import reminder_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def survey_call():
    reminder = reminder_call.__wrapped__(greeting="")
    survey = Survey.objects.create(organization=reminder.agent.organization, name="Visit")
    question = Question.objects.create(
        survey=survey, position=1, kind="scale", text="From one to five, how was your visit?"
    )
    campaign = reminder.call.target.campaign
    campaign.kind, campaign.survey = "survey", survey
    campaign.save()
    reminder.agent.tools = ["end_call", "record_survey_answer"]
    reminder.agent.save()
    return reminder, question


@sync_to_async
def stored(call_id):
    call = Call.objects.get(pk=call_id)
    tools = list(
        CallEvent.objects.filter(call_id=call_id, kind="tool").values_list("data", flat=True)
    )
    return call, tools


async def test_it_answers_a_bad_tool_call_with_an_error_and_carries_on(model_server, twilio):
    reminder, question = await survey_call()
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until_quiet()

    await side.say("Seven.")  # off the one-to-five scale

    assert await side.until_closed() == 1000
    session = model_server.sessions[0]
    outputs = [
        json.loads(event["item"]["output"])
        for event in session.events("received", "conversation.item.create")
        if event["item"]["type"] == "function_call_output"
    ]
    assert outputs[0] == {"error": f"Question {question.pk} takes a number from 1 to 5, not 7."}
    # The call went on: the model was asked to respond, said goodbye and hung up.
    assert (
        "Goodbye"
        in session.events("sent", "response.output_audio_transcript.done")[-1]["transcript"]
    )
    call, tools = await stored(reminder.call.pk)
    assert "survey" not in call.result
    assert [tool["name"] for tool in tools] == ["record_survey_answer", "end_call"]
