"""Post-call analysis for the text endpoints: deterministic facts derived from a transcript.

The transcript arrives as chat messages (`/v1/chat/completions`) or Responses input
(`/v1/responses`). Lines that start with a caller label ("Caller:", "User:", "Callee:",
"Contact:") are the caller's; everything else is the agent's or the prompt. The facts
(summary, sentiment and its score, outcome, survey answers, follow-up, opt-out) are shaped
after the JSON schema the request asks for where one is given, otherwise returned in
`FIXED_SHAPE`. Properties are filled by their names ("summary", "sentiment_score",
"follow_up_reason", …); an object of survey answers is filled per property by the question
its `description` quotes, typed as the property asks (boolean, integer within its bounds,
one of its `enum`, text) and null when the caller gave no answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.phrases import NUMBER_WORDS, caller_intent
from sandbox.speech import normalize_words

# The documented shape when the request names no JSON schema.
FIXED_SHAPE = ("summary", "sentiment", "outcome", "survey_answers", "opted_out")

_CALLER_LINE = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(caller|user|callee|contact|customer|human)\s*:\s*(?P<text>.*)$",
    re.IGNORECASE,
)
_AGENT_LINE = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(agent|assistant|ai|bot|model)\s*:\s*(?P<text>.*)$",
    re.IGNORECASE,
)

_OUTCOME_BY_INTENT = {
    "confirm": "confirmed",
    "decline": "declined",
    "reschedule": "reschedule_requested",
    "opt_out": "opted_out",
    "voicemail": "voicemail",
}
_SUMMARY_BY_OUTCOME = {
    "confirmed": "The caller confirmed the appointment.",
    "declined": "The caller declined the appointment.",
    "reschedule_requested": "The caller asked to reschedule.",
    "opted_out": "The caller asked not to be called again.",
    "voicemail": "The call reached voicemail.",
    "completed": "The caller answered the survey.",
    "unknown": "The call ended without a clear outcome.",
}
_SCORE_BY_SENTIMENT = {"positive": 0.8, "neutral": 0.0, "negative": -0.7}
_FOLLOW_UP_BY_OUTCOME = {
    "declined": "The caller cannot come: the appointment should be released or rebooked.",
    "reschedule_requested": "The caller asked to reschedule: offer them a new time.",
}
_SENTIMENT_BY_OUTCOME = {
    "confirmed": "positive",
    "completed": "positive",
    "declined": "neutral",
    "reschedule_requested": "neutral",
    "opted_out": "negative",
    "voicemail": "neutral",
    "unknown": "neutral",
}


@dataclass
class CallFacts:
    summary: str
    sentiment: str
    outcome: str
    opted_out: bool
    survey_answers: list[dict[str, str]] = field(default_factory=list)
    sentiment_score: float = 0.0
    follow_up_reason: str = ""

    @property
    def follow_up_needed(self) -> bool:
        return bool(self.follow_up_reason)

    def fixed_shape(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "sentiment": self.sentiment,
            "outcome": self.outcome,
            "survey_answers": self.survey_answers,
            "opted_out": self.opted_out,
        }


def _answer_text(words: list[str]) -> str:
    numbers = [str(NUMBER_WORDS.index(word) + 1) for word in words if word in NUMBER_WORDS]
    if len(words) == 1 and numbers:
        return numbers[0]
    intent = caller_intent(words)
    if intent in ("yes", "no"):
        return intent
    return " ".join(words)


def analyse_transcript(transcript: str) -> CallFacts:
    """The facts of a call, from its transcript text."""
    outcome = "unknown"
    survey_answers: list[dict[str, str]] = []
    last_agent_line = ""
    caller_lines = 0
    for line in transcript.splitlines():
        if agent := _AGENT_LINE.match(line):
            last_agent_line = agent["text"].strip()
            continue
        caller = _CALLER_LINE.match(line)
        if not caller:
            continue
        caller_lines += 1
        words = normalize_words(caller["text"])
        intent = caller_intent(words)
        if intent in _OUTCOME_BY_INTENT:
            outcome = _OUTCOME_BY_INTENT[intent]
        elif words and "?" in last_agent_line and intent not in ("robot", "repeat", "hello"):
            survey_answers.append({"question": last_agent_line, "answer": _answer_text(words)})
    if outcome == "unknown" and survey_answers:
        outcome = "completed"
    if caller_lines == 0 and outcome == "unknown":
        summary = "No caller speech was recorded."
    else:
        summary = _SUMMARY_BY_OUTCOME[outcome]
    sentiment = _SENTIMENT_BY_OUTCOME[outcome]
    return CallFacts(
        summary=summary,
        sentiment=sentiment,
        outcome=outcome,
        opted_out=outcome == "opted_out",
        survey_answers=survey_answers,
        sentiment_score=_SCORE_BY_SENTIMENT[sentiment],
        follow_up_reason=_FOLLOW_UP_BY_OUTCOME.get(outcome, ""),
    )


# Shaping the facts after a JSON schema.


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/"):
        target: Any = root
        for part in reference[2:].split("/"):
            target = target.get(part, {})
        return _resolve(target, root)
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if options:
            concrete = [option for option in options if option.get("type") != "null"]
            return _resolve((concrete or options)[0], root)
    return schema


def _pick_enum(options: list[Any], wanted: str) -> Any:
    for option in options:
        if str(option).lower() == wanted.lower():
            return option
    for option in options:
        if wanted and (
            wanted.lower() in str(option).lower() or str(option).lower() in wanted.lower()
        ):
            return option
    # A fact the schema has no word for is reported as its catch-all choice, if it has one.
    for fallback in ("unknown", "other", "none", "neutral"):
        if fallback in options:
            return fallback
    return options[0]


def _fact_for(name: str, facts: CallFacts) -> Any:
    key = name.lower()
    if "score" in key:
        return facts.sentiment_score
    if "follow" in key:
        return facts.follow_up_reason if "reason" in key or "why" in key else facts.follow_up_needed
    if "callback" in key:
        return None  # no sandbox caller names a time to be called back
    if "summary" in key:
        return facts.summary
    if "sentiment" in key:
        return facts.sentiment
    if "opt" in key and "out" in key:
        return facts.opted_out
    if "outcome" in key or "result" in key or "disposition" in key:
        return facts.outcome
    if "survey" in key or "answers" in key:
        return facts.survey_answers
    return None


def shape_like(
    schema: dict[str, Any], facts: CallFacts, *, root: dict[str, Any], name: str = ""
) -> Any:
    """A value matching `schema`, filled with the facts its property names ask for."""
    schema = _resolve(schema, root)
    fact = _fact_for(name, facts) if name else None
    kind, nullable = _kind(schema)
    if nullable and name and _names_nothing(name):
        return None
    if "enum" in schema:
        return _pick_enum(schema["enum"], str(fact if fact is not None else ""))
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if isinstance(fact, list):  # one property per survey question
            return {
                key: _survey_answer(_resolve(value, root), fact)
                for key, value in properties.items()
            }
        return {
            key: shape_like(value, facts, root=root, name=key) for key, value in properties.items()
        }
    if kind == "array":
        items = schema.get("items", {})
        if not isinstance(fact, list):
            return []
        return [_shape_answer(items, answer, facts, root=root) for answer in fact]
    if kind == "boolean":
        return bool(fact) if isinstance(fact, bool) else False
    if kind in ("number", "integer"):
        number = fact if isinstance(fact, int | float) and not isinstance(fact, bool) else 0
        return _within(schema, int(number) if kind == "integer" else number)
    if kind == "null":
        return None
    return fact if isinstance(fact, str) else ""


def _kind(schema: dict[str, Any]) -> tuple[str, bool]:
    """The schema's non-null type, and whether null is allowed."""
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((option for option in kind if option != "null"), "null"), "null" in kind
    return kind, kind == "null"


def _names_nothing(name: str) -> bool:
    return "callback" in name.lower()


def _within(schema: dict[str, Any], number: float) -> float:
    if "minimum" in schema:
        number = max(number, schema["minimum"])
    if "maximum" in schema:
        number = min(number, schema["maximum"])
    return number


def _asks(description: str, question_line: str) -> bool:
    """Whether the agent's line asks the question a property's description quotes."""
    asked = normalize_words(description.split("?", 1)[0])
    line = normalize_words(question_line)
    return bool(asked) and any(
        line[start : start + len(asked)] == asked for start in range(len(line) - len(asked) + 1)
    )


def _survey_answer(schema: dict[str, Any], answers: list[dict[str, str]]) -> Any:
    """The caller's answer to the question the property describes, typed as it asks."""
    kind, nullable = _kind(schema)
    description = schema.get("description", "")
    said = next(
        (answer["answer"] for answer in answers if _asks(description, answer["question"])), None
    )
    value: Any = None
    if said is not None:
        if "enum" in schema:
            options = [option for option in schema["enum"] if option is not None]
            value = next((option for option in options if str(option).lower() == said), None)
        elif kind == "boolean":
            value = {"yes": True, "no": False}.get(said)
        elif kind in ("integer", "number"):
            value = int(said) if said.isdigit() else None
            if value is not None and _within(schema, value) != value:
                value = None
        elif kind == "string":
            value = said
    if value is None and not nullable:
        return {"boolean": False, "integer": 0, "number": 0, "string": ""}.get(kind)
    return value


def _shape_answer(
    schema: dict[str, Any], answer: dict[str, str], facts: CallFacts, *, root: dict[str, Any]
) -> Any:
    schema = _resolve(schema, root)
    if schema.get("type") != "object" and "properties" not in schema:
        return answer["answer"]
    shaped = {}
    for key, value in schema.get("properties", {}).items():
        lowered = key.lower()
        if "answer" in lowered or "value" in lowered or "response" in lowered:
            shaped[key] = answer["answer"]
        elif "question" in lowered or "prompt" in lowered:
            shaped[key] = answer["question"]
        else:
            shaped[key] = shape_like(value, facts, root=root, name=key)
    return shaped


def structured_output(transcript: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    """The analysis of `transcript`, shaped after `schema` when one is given."""
    facts = analyse_transcript(transcript)
    if not schema:
        return facts.fixed_shape()
    shaped = shape_like(schema, facts, root=schema)
    return shaped if isinstance(shaped, dict) else facts.fixed_shape()


def message_text(content: Any) -> str:
    """Text of a chat or Responses message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def to_json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False)
