"""Post-call analysis through the text endpoints, called with the official SDK."""

import json

import openai
import pydantic
import pytest
from openai import OpenAI

from tests.sandbox.conftest import API_KEY

CONFIRMED_CALL = """Agent: Hello, this is an automated assistant calling for Acme Dental.
Agent: Can you confirm your appointment on Tuesday at nine?
Caller: Yes, I will be there.
Agent: Thank you. Goodbye."""

SURVEY_CALL = """Agent: On a scale of one to ten, how was your visit?
Caller: Seven.
Agent: Would you recommend us?
Caller: Yes."""

ANALYSIS_SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
        "outcome": {
            "type": "string",
            "enum": ["confirmed", "declined", "reschedule_requested", "opted_out", "unknown"],
        },
        "survey_answers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
                "required": ["question", "answer"],
                "additionalProperties": False,
            },
        },
        "opted_out": {"type": "boolean"},
    },
    "required": ["summary", "sentiment", "outcome", "survey_answers", "opted_out"],
    "additionalProperties": False,
}


@pytest.fixture
def client(model_server):
    return OpenAI(base_url=model_server.openai_base_url, api_key=API_KEY)


def analyse_with_chat(client, transcript, schema=ANALYSIS_SCHEMA):
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Analyse this phone call."},
            {"role": "user", "content": transcript},
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "call_analysis", "schema": schema, "strict": True},
        },
    )
    return completion, json.loads(completion.choices[0].message.content)


def test_it_analyses_a_confirmed_reminder_in_the_requested_shape(client):
    completion, analysis = analyse_with_chat(client, CONFIRMED_CALL)

    assert analysis == {
        "summary": "The caller confirmed the appointment.",
        "sentiment": "positive",
        "outcome": "confirmed",
        "survey_answers": [],
        "opted_out": False,
    }
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert completion.usage.prompt_tokens > 0


def test_it_extracts_survey_answers(client):
    _, analysis = analyse_with_chat(client, SURVEY_CALL)

    assert analysis["survey_answers"] == [
        {"question": "On a scale of one to ten, how was your visit?", "answer": "7"},
        {"question": "Would you recommend us?", "answer": "yes"},
    ]
    assert analysis["outcome"] == "unknown"  # "completed" is not among the schema's choices


def test_it_reports_an_opt_out(client):
    _, analysis = analyse_with_chat(client, "Agent: Hello.\nCaller: Stop calling me.")

    assert analysis["outcome"] == "opted_out"
    assert analysis["opted_out"] is True
    assert analysis["sentiment"] == "negative"


def test_it_gives_the_same_answer_for_the_same_transcript(client):
    assert (
        analyse_with_chat(client, CONFIRMED_CALL)[1] == analyse_with_chat(client, CONFIRMED_CALL)[1]
    )


def test_it_fills_a_pydantic_schema_parsed_by_the_sdk(client):
    class Analysis(pydantic.BaseModel):
        summary: str
        outcome: str
        opted_out: bool

    completion = client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Caller: No, I cannot make it."}],
        response_format=Analysis,
    )

    assert completion.choices[0].message.parsed == Analysis(
        summary="The caller declined the appointment.", outcome="declined", opted_out=False
    )


def test_it_answers_in_a_fixed_shape_without_a_schema(client):
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": CONFIRMED_CALL}]
    )

    analysis = json.loads(completion.choices[0].message.content)
    assert sorted(analysis) == ["opted_out", "outcome", "sentiment", "summary", "survey_answers"]


def test_it_serves_the_responses_endpoint(client, model_server):
    response = client.responses.create(
        model="gpt-4o-mini",
        input=[{"role": "user", "content": CONFIRMED_CALL}],
        text={
            "format": {
                "type": "json_schema",
                "name": "call_analysis",
                "schema": ANALYSIS_SCHEMA,
                "strict": True,
            }
        },
    )

    assert json.loads(response.output_text)["outcome"] == "confirmed"
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert model_server.analysis_requests[-1]["model"] == "gpt-4o-mini"


def test_it_refuses_text_requests_with_a_wrong_key(model_server):
    client = OpenAI(base_url=model_server.openai_base_url, api_key="sk-wrong", max_retries=0)

    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
        )


def test_it_answers_429_then_500_when_told_to_as_the_api_does(client, model_server):
    client = client.with_options(max_retries=0)
    model_server.fail_analysis("rate_limited", "server_error")

    with pytest.raises(openai.RateLimitError) as limited:
        analyse_with_chat(client, CONFIRMED_CALL)
    with pytest.raises(openai.InternalServerError):
        analyse_with_chat(client, CONFIRMED_CALL)

    assert limited.value.response.headers["retry-after"] == "1"
    assert analyse_with_chat(client, CONFIRMED_CALL)[1]["outcome"] == "confirmed"


def test_it_refuses_in_the_apis_refusal_shape_when_told_to(client, model_server):
    class Analysis(pydantic.BaseModel):
        summary: str

    model_server.fail_analysis("refusal", "refusal")

    completion = client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": CONFIRMED_CALL}],
        response_format=Analysis,
    )
    response = client.responses.create(
        model="gpt-4o-mini", input=CONFIRMED_CALL, text={"format": {"type": "text"}}
    )

    message = completion.choices[0].message
    assert (message.content, message.parsed) == (None, None)
    assert message.refusal.startswith("I'm sorry")
    assert response.output[0].content[0].type == "refusal"


def test_it_answers_outside_the_schema_when_told_to(client, model_server):
    model_server.fail_analysis("invalid_output", "not_json")

    first = analyse_with_chat(client, CONFIRMED_CALL)[1]
    second = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": CONFIRMED_CALL}]
    )

    assert "summary" not in first  # a required property is missing
    with pytest.raises(json.JSONDecodeError):
        json.loads(second.choices[0].message.content)


def test_it_refuses_to_plan_an_unknown_fault(model_server):
    with pytest.raises(ValueError, match="Unknown analysis faults"):
        model_server.fail_analysis("on_fire")


def test_it_types_survey_answers_by_the_question_each_property_describes(client):
    schema = {
        "type": "object",
        "properties": {
            "survey_answers": {
                "type": "object",
                "properties": {
                    "recommend": {
                        "type": ["boolean", "null"],
                        "description": "Would you recommend us?",
                    },
                    "rating": {
                        "type": ["integer", "null"],
                        "minimum": 1,
                        "maximum": 5,
                        "description": "On a scale of one to ten, how was your visit?",
                    },
                    "when": {
                        "type": ["string", "null"],
                        "enum": ["morning", "evening", None],
                        "description": "Morning or evening?",
                    },
                },
                "required": ["recommend", "rating", "when"],
                "additionalProperties": False,
            }
        },
        "required": ["survey_answers"],
        "additionalProperties": False,
    }

    _, analysis = analyse_with_chat(client, SURVEY_CALL, schema)

    # 7 is outside the property's bounds: no answer rather than a wrong one.
    assert analysis == {"survey_answers": {"recommend": True, "rating": None, "when": None}}
