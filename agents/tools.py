"""The tools a call's model may use: a registry, and the built-in tools.

A tool declares a JSON Schema for its arguments and a synchronous `run` that may touch the
database or the carrier; the registry checks the arguments, runs the tool in a worker
thread with a timeout, and turns every failure into an error output for the model
(`{"error": "…"}`), so a tool can never end a call by failing. What the bridge does after
a tool (answer, hang up, say a last line) is part of the tool's result.
"""

import asyncio
import enum
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection, transaction

from agents.models import Tool
from agents.prompts import SurveyLine
from agents.tool_schema import schema_errors
from calls.models import Call
from calls.survey_answers import survey_answer_record
from calls.telephony.twilio import CarrierError, replace_twiml, transfer_twiml
from campaigns.revocation import consent_revoke

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 5.0
OUTCOMES = (
    "confirmed",
    "declined",
    "reschedule_requested",
    "wrong_person",
    "callback_requested",
    "other",
)


class After(enum.Enum):
    """What the bridge does once a tool's output is back with the model."""

    RESPOND = "respond"  # ask for a response: the model goes on talking
    END_CALL = "end_call"  # no response; hang up once everything queued has played
    RESPOND_THEN_END = "respond_then_end"  # one last response (a goodbye), then hang up
    WAIT = "wait"  # nothing: the carrier is taking the call elsewhere


@dataclass(frozen=True)
class CallContext:
    """What a tool may know about the call it runs in."""

    call_id: int
    call_sid: str
    organization_id: int
    time_zone: str
    phone: str  # the other party's number
    caller_id: str  # our number on this call
    transfer_number: str = ""
    target_id: int | None = None
    survey: dict[str, SurveyLine] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResult:
    output: dict
    after: After = After.RESPOND


class ToolFailed(Exception):
    """The tool could not do what was asked; the message goes back to the model."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict
    run: Callable[[CallContext, dict, datetime], ToolResult]
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    # Transfers must not cut off the sentence that announces them.
    waits_for_playback: bool = False

    def to_wire(self) -> dict:
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }


def _in_worker_thread(spec: ToolSpec, context: CallContext, arguments: dict, at: datetime):
    close_old_connections()
    try:
        return spec.run(context, arguments, at)
    finally:
        # Worker threads come and go; a connection left open in one is never reused.
        connection.close()


class ToolRegistry:
    def __init__(self, specs: list[ToolSpec] = ()):
        self._specs = {spec.name: spec for spec in specs}

    def register(self, spec: ToolSpec) -> None:
        self._specs[spec.name] = spec

    def spec(self, name: str) -> ToolSpec | None:
        return self._specs.get(name)

    def offered(self, enabled: list[str]) -> list[dict]:
        """Wire definitions of the tools enabled on the agent, in the agent's order."""
        return [self._specs[name].to_wire() for name in enabled if name in self._specs]

    async def call(
        self,
        name: str,
        arguments: str,
        *,
        context: CallContext,
        enabled: list[str],
        at: datetime,
        before_run: Callable[[], Awaitable[None]] | None = None,
    ) -> ToolResult:
        """Run one tool call from the model. Never raises: failures are error outputs."""
        spec = self._specs.get(name)
        if spec is None or name not in enabled:
            return ToolResult({"error": f"There is no tool named {name!r} on this call."})
        try:
            parsed = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            return ToolResult({"error": "The arguments are not valid JSON."})
        errors = schema_errors(parsed, spec.parameters)
        if errors:
            return ToolResult({"error": "Invalid arguments: " + "; ".join(errors) + "."})
        try:
            async with asyncio.timeout(spec.timeout_seconds):
                if before_run is not None and spec.waits_for_playback:
                    await before_run()
                return await sync_to_async(_in_worker_thread, thread_sensitive=False)(
                    spec, context, parsed, at
                )
        except ToolFailed as error:
            return ToolResult({"error": str(error)})
        except TimeoutError:
            logger.warning("Tool %s timed out on call %s", name, context.call_id)
            return ToolResult({"error": f"The {name} tool did not finish in time."})
        except Exception as error:
            # Any tool bug must stay inside the tool: the call goes on.
            logger.exception("Tool %s failed on call %s", name, context.call_id)
            return ToolResult({"error": f"The {name} tool failed: {type(error).__name__}."})


# The built-in tools.


def _result_update(call_id: int, *, result: dict | None = None, **fields) -> None:
    """Merge `result` keys into Call.result and set `fields`, under a row lock."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        for key, value in (result or {}).items():
            if isinstance(value, dict) and isinstance(call.result.get(key), dict):
                call.result[key] = {**call.result[key], **value}
            else:
                call.result[key] = value
        for name, value in fields.items():
            setattr(call, name, value)
        call.save(update_fields=["result", *fields])


def end_call(context: CallContext, arguments: dict, at: datetime) -> ToolResult:
    return ToolResult({"status": "ending the call"}, after=After.END_CALL)


def record_outcome(context: CallContext, arguments: dict, at: datetime) -> ToolResult:
    note = arguments.get("note", "")
    result = {"note": note} if note else {}
    _result_update(context.call_id, result=result, outcome=arguments["outcome"])
    return ToolResult({"status": "recorded", "outcome": arguments["outcome"]})


def survey_answer_normalised(question: SurveyLine, answer) -> str | int:
    """The answer in the question's terms; ToolFailed if it does not answer it."""
    text = str(answer).strip()
    if question.kind == "yes_no":
        normalised = {"yes": "yes", "y": "yes", "true": "yes", "no": "no", "n": "no", "false": "no"}
        if text.lower() not in normalised:
            raise ToolFailed(f"Question {question.question_id} takes yes or no, not {text!r}.")
        return normalised[text.lower()]
    if question.kind == "scale":
        try:
            number = int(text)
        except ValueError:
            raise ToolFailed(f"Question {question.question_id} takes a whole number.") from None
        if not question.scale_min <= number <= question.scale_max:
            raise ToolFailed(
                f"Question {question.question_id} takes a number from {question.scale_min} "
                f"to {question.scale_max}, not {number}."
            )
        return number
    if question.kind == "choice":
        options = {choice.lower(): choice for choice in question.choices}
        if text.lower() not in options:
            raise ToolFailed(
                f"Question {question.question_id} takes one of: {', '.join(question.choices)}."
            )
        return options[text.lower()]
    if not text:
        raise ToolFailed(f"Question {question.question_id} needs an answer in words.")
    return text


def record_survey_answer(context: CallContext, arguments: dict, at: datetime) -> ToolResult:
    question_id = str(arguments["question_id"])
    question = context.survey.get(question_id)
    if question is None:
        raise ToolFailed(f"There is no survey question {question_id} on this call.")
    answer = survey_answer_normalised(question, arguments["answer"])
    with transaction.atomic():
        _result_update(context.call_id, result={"survey": {question_id: answer}})
        survey_answer_record(
            call_id=context.call_id, question_id=int(question_id), kind=question.kind, value=answer
        )
    return ToolResult({"status": "recorded", "question_id": question_id, "answer": answer})


def opt_out(context: CallContext, arguments: dict, at: datetime) -> ToolResult:
    consent_revoke(organization_id=context.organization_id, phone=context.phone, via="call", at=at)
    _result_update(context.call_id, outcome="opted_out")
    return ToolResult(
        {"status": "opted out", "next": "Say the opt-out reply, then end the call."},
        after=After.RESPOND_THEN_END,
    )


def transfer_to_human(context: CallContext, arguments: dict, at: datetime) -> ToolResult:
    if not context.transfer_number:
        raise ToolFailed("No transfer number is set up; offer a callback instead.")
    try:
        replace_twiml(
            context.call_sid, transfer_twiml(context.transfer_number, caller_id=context.caller_id)
        )
    except CarrierError as error:
        raise ToolFailed(f"The transfer did not go through: {error}") from error
    _result_update(context.call_id, outcome="transferred", hangup_reason="transferred")
    return ToolResult({"status": "transferring"}, after=After.WAIT)


def _lawful_callback_at(target_id: int | None, at: datetime) -> datetime | None:
    """The earliest lawful instant ≥ `at` for the target, when the eligibility service exists."""
    if target_id is None:
        return None
    try:
        from campaigns.eligibility import target_next_lawful_at
    except ImportError:
        return None
    return target_next_lawful_at(target_id=target_id, at=at)


def schedule_callback(context: CallContext, arguments: dict, at: datetime) -> ToolResult:
    try:
        requested = datetime.fromisoformat(arguments["when"])
    except ValueError:
        raise ToolFailed("`when` must be an ISO 8601 date and time.") from None
    if requested.tzinfo is None:
        # A time without an offset is the organisation's local time.
        requested = requested.replace(tzinfo=ZoneInfo(context.time_zone))
    if requested <= at:
        raise ToolFailed("That time has already passed; ask for a later one.")
    lawful = _lawful_callback_at(context.target_id, requested)
    callback = {
        "requested_at": requested.isoformat(),
        "lawful_at": lawful.isoformat() if lawful else None,
    }
    _result_update(context.call_id, result={"callback": callback}, outcome="callback_requested")
    return ToolResult({"status": "callback scheduled", **callback})


def _object(properties: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


BUILT_IN_TOOLS = [
    ToolSpec(
        Tool.END_CALL,
        "Hang up after your goodbye has been said.",
        _object({}, []),
        end_call,
    ),
    ToolSpec(
        Tool.RECORD_OUTCOME,
        "Record how the call went, as soon as it is clear.",
        _object(
            {
                "outcome": {"type": "string", "enum": list(OUTCOMES)},
                "note": {"type": "string", "description": "A short note, if useful."},
            },
            ["outcome"],
        ),
        record_outcome,
    ),
    ToolSpec(
        Tool.RECORD_SURVEY_ANSWER,
        "Record the person's answer to one survey question, by its id.",
        _object(
            {
                "question_id": {"type": ["string", "integer"]},
                "answer": {"type": ["string", "integer", "number", "boolean"]},
            },
            ["question_id", "answer"],
        ),
        record_survey_answer,
    ),
    ToolSpec(
        Tool.OPT_OUT,
        "The person does not want to be called again: record it at once.",
        _object({}, []),
        opt_out,
    ),
    ToolSpec(
        Tool.TRANSFER_TO_HUMAN,
        "Transfer the call to a person, after telling the caller you are doing so.",
        _object({}, []),
        transfer_to_human,
        timeout_seconds=20.0,
        waits_for_playback=True,
    ),
    ToolSpec(
        Tool.SCHEDULE_CALLBACK,
        "Schedule a callback at the time the person asks for.",
        _object(
            {
                "when": {
                    "type": "string",
                    "minLength": 1,
                    "description": "ISO 8601 date and time; without an offset it is local time.",
                }
            },
            ["when"],
        ),
        schedule_callback,
    ),
]


def default_registry() -> ToolRegistry:
    return ToolRegistry(BUILT_IN_TOOLS)
