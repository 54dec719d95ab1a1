"""The scripted dialogue, driven by instructions, tools and what the caller is heard to say."""

import json

from sandbox.model.policy import CallTool, DialoguePolicy, Say, survey_answer
from sandbox.model.script import SurveyQuestion, parse_script, say_directive
from tests.sandbox.conftest import (
    REMINDER_INSTRUCTIONS,
    caller_frames,
    open_reminder_call,
    pcmu_session,
    transcript_of,
)

SURVEY_INSTRUCTIONS = """You run a short survey for Acme Dental.
Opening: "Hello, this is an automated assistant calling for Acme Dental with a short survey."
Survey question q1 (scale): "On a scale of one to ten, how was your visit?"
Survey question q2 (choice: morning|afternoon|evening): "When do you prefer appointments?"
Survey question q3 (yes_no): "Would you recommend us?"
Survey question q4 (text): "Anything else to tell us?"
Goodbye: "Thanks for your answers. Goodbye."
"""


def function_calls(events):
    return [
        (event["name"], json.loads(event["arguments"]))
        for event in events
        if event["type"] == "response.function_call_arguments.done"
    ]


async def caller_says(client, text):
    await client.send_frames(caller_frames(text))
    return await client.until("response.done")


async def return_output_and_continue(client, events):
    for name_and_call in [
        e for e in events if e["type"] == "response.function_call_arguments.done"
    ]:
        await client.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": name_and_call["call_id"],
                    "output": '{"ok": true}',
                },
            }
        )
    await client.send({"type": "response.create"})
    return await client.until("response.done")


async def test_it_records_a_reschedule_request_and_says_the_reschedule_reply(connect):
    client = await connect()
    await open_reminder_call(
        client,
        instructions=REMINDER_INSTRUCTIONS + 'Reschedule reply: "Sure, we will call back."\n',
    )

    turn = await caller_says(client, "Can we reschedule to next week?")
    closing = await return_output_and_continue(client, turn)

    assert function_calls(turn) == [("record_outcome", {"outcome": "reschedule_requested"})]
    assert transcript_of(closing) == "Sure, we will call back. Thank you. Goodbye."
    assert function_calls(closing) == [("end_call", {})]


async def test_it_opts_the_caller_out_and_ends_the_call(connect):
    client = await connect()
    await open_reminder_call(client)

    turn = await caller_says(client, "Stop calling me.")
    closing = await return_output_and_continue(client, turn)

    assert function_calls(turn) == [("opt_out", {})]
    assert transcript_of(closing) == "Understood, we will not call you again. Goodbye."
    assert function_calls(closing) == [("end_call", {})]


async def test_it_answers_are_you_a_robot_truthfully_and_asks_again(connect):
    client = await connect()
    await open_reminder_call(client)

    turn = await caller_says(client, "Are you a robot?")

    assert transcript_of(turn) == (
        "Yes, I am an automated assistant. Can you confirm your appointment on Tuesday at nine?"
    )
    assert function_calls(turn) == []


async def test_it_asks_again_when_it_did_not_understand(connect):
    client = await connect()
    await open_reminder_call(client)

    turn = await caller_says(client, "The staff were very friendly.")

    assert transcript_of(turn).startswith("Sorry, I did not catch that.")
    assert function_calls(turn) == []


async def test_it_skips_tools_the_session_does_not_offer(connect):
    client = await connect()
    await open_reminder_call(client, tools=[])

    turn = await caller_says(client, "Yes, I will be there.")

    assert function_calls(turn) == []
    assert transcript_of(turn) == "Thank you. Goodbye."


async def test_it_runs_a_survey_and_records_each_answer(connect):
    client = await connect()
    opening = await open_reminder_call(client, instructions=SURVEY_INSTRUCTIONS)
    recorded = []
    asked = [transcript_of(opening)]

    for answer in ["Seven.", "Morning.", "Yes.", "The staff were very friendly."]:
        turn = await caller_says(client, answer)
        recorded += function_calls(turn)
        following = await return_output_and_continue(client, turn)
        asked.append(transcript_of(following))

    assert recorded == [
        ("record_survey_answer", {"question_id": "q1", "answer": "7"}),
        ("record_survey_answer", {"question_id": "q2", "answer": "morning"}),
        ("record_survey_answer", {"question_id": "q3", "answer": "yes"}),
        ("record_survey_answer", {"question_id": "q4", "answer": "the staff were very friendly"}),
    ]
    assert asked[0].endswith("On a scale of one to ten, how was your visit?")
    assert asked[1:] == [
        "When do you prefer appointments?",
        "Would you recommend us?",
        "Anything else to tell us?",
        "Thanks for your answers. Goodbye.",
    ]


async def test_it_hears_choices_named_only_in_the_instructions(connect):
    client = await connect()
    instructions = 'Opening: "Hi, an automated survey."\nSurvey question colour (choice: red|blue): "Red or blue?"\n'
    await open_reminder_call(client, instructions=instructions)

    turn = await caller_says(client, "Blue.")

    assert function_calls(turn) == [
        ("record_survey_answer", {"question_id": "colour", "answer": "blue"})
    ]


async def test_it_reacts_to_typed_user_text_too(connect):
    client = await connect()
    await open_reminder_call(client)

    await client.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "No, I cannot make it."}],
            },
        }
    )
    await client.send({"type": "response.create"})
    turn = await client.until("response.done")

    assert function_calls(turn) == [("record_outcome", {"outcome": "declined"})]


def test_it_parses_every_directive_of_the_instructions():
    script = parse_script(REMINDER_INSTRUCTIONS + SURVEY_INSTRUCTIONS)

    assert script.opening.startswith("Hello, this is an automated assistant calling for Acme")
    assert script.question == "Can you confirm your appointment on Tuesday at nine?"
    assert script.robot_reply == "Yes, I am an automated assistant."
    assert script.survey[1] == SurveyQuestion(
        id="q2",
        kind="choice",
        text="When do you prefer appointments?",
        choices=("morning", "afternoon", "evening"),
    )
    assert [question.kind for question in script.survey] == ["scale", "choice", "yes_no", "text"]


def test_it_reads_the_say_directive_only_when_present():
    assert say_directive('Apologise. Say: "Sorry about that."') == "Sorry about that."
    assert say_directive("Just continue.") is None
    assert say_directive(None) is None


def test_it_reads_survey_answers_by_question_kind():
    scale = SurveyQuestion("q", "scale", "How?")
    choice = SurveyQuestion("q", "choice", "Which?", ("email", "phone"))

    assert survey_answer(scale, ["ten"]) == "10"
    assert survey_answer(scale, ["hello"]) is None
    assert survey_answer(choice, ["phone"]) == "phone"
    assert survey_answer(SurveyQuestion("q", "yes_no", "?"), ["no"]) == "no"


def test_it_opens_and_listens_when_there_is_nothing_to_ask():
    policy = DialoguePolicy()
    policy.configure(instructions='Opening: "Hello, how can I help?"', tool_names={"end_call"})

    assert policy.next_actions() == [Say("Hello, how can I help?")]
    policy.hear(["goodbye"])
    assert policy.next_actions() == [Say(parse_script("").goodbye), CallTool("end_call", {})]


async def test_it_picks_up_the_script_from_a_restored_conversation(connect):
    client = await connect()
    await client.until("session.created")
    await client.send(
        {
            "type": "session.update",
            "session": {**pcmu_session(), "instructions": SURVEY_INSTRUCTIONS},
        }
    )
    await client.until("session.updated")
    history = [
        ("assistant", "output_text", "Hello. On a scale of one to ten, how was your visit?"),
        ("user", "input_text", "Eight."),
        ("assistant", "output_text", "When do you prefer appointments?"),
    ]
    for role, part, text in history:
        await client.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": role,
                    "content": [{"type": part, "text": text}],
                },
            }
        )

    await client.send({"type": "response.create"})
    resumed = await client.until("response.done")
    turn = await caller_says(client, "Evening.")

    assert transcript_of(resumed) == "When do you prefer appointments?"
    assert function_calls(turn) == [
        ("record_survey_answer", {"question_id": "q2", "answer": "evening"})
    ]
