"""The scripted dialogue: what the sandbox model says and which tools it calls, and when.

It follows the script in the session's instructions (see `script.py`): open, ask the
reminder question and then each survey question, react to what the caller said, say
goodbye and call `end_call`. It knows what the caller said only from the words
recognised in their audio. A tool call ends a response; the rest of that turn (the
"continuation") is said after the client returns the tool's output and asks for a new
response, as the Realtime API requires. Tools missing from the session are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.model.script import Script, SurveyQuestion, parse_script, say_directive
from sandbox.phrases import NUMBER_WORDS, caller_intent
from sandbox.speech import normalize_words

STILL_THERE = "Are you still there?"
NOT_CAUGHT = "Sorry, I did not catch that."
MAX_IDLE_PROMPTS = 1

_OUTCOMES = {
    "confirm": "confirmed",
    "yes": "confirmed",
    "decline": "declined",
    "no": "declined",
    "reschedule": "reschedule_requested",
}


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class CallTool:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


Action = Say | CallTool


def _merged(actions: list[Action]) -> list[Action]:
    """Adjacent utterances become one, as a person says them in one breath."""
    merged: list[Action] = []
    for action in actions:
        if isinstance(action, Say) and merged and isinstance(merged[-1], Say):
            merged[-1] = Say(f"{merged[-1].text} {action.text}")
        else:
            merged.append(action)
    return merged


def survey_answer(question: SurveyQuestion, words: list[str]) -> str | None:
    """The answer a caller's words give to a survey question, or None if they give none."""
    heard = [word for text in words for word in normalize_words(text)]
    if question.kind == "yes_no":
        return {"yes": "yes", "confirm": "yes", "no": "no", "decline": "no"}.get(
            caller_intent(heard) or ""
        )
    if question.kind == "scale":
        numbers = [NUMBER_WORDS.index(word) + 1 for word in heard if word in NUMBER_WORDS]
        numbers += [int(word) for word in heard if word.isdigit()]
        return str(numbers[0]) if numbers else None
    if question.kind == "choice":
        spoken = f" {' '.join(heard)} "
        return next((choice for choice in question.choices if f" {choice} " in spoken), None)
    return " ".join(heard) or None


class DialoguePolicy:
    """Decides each response of one session from its script, tools and what was heard."""

    def __init__(self) -> None:
        self.script = Script()
        self.tool_names: set[str] = set()
        self.is_opened = False
        self.is_ended = False
        self.step_index = 0
        self._caller_turn: list[str] | None = None
        self._idle_prompts = 0
        self._is_idle_pending = False
        self._continuation: list[Action] = []

    def configure(self, *, instructions: str, tool_names: set[str]) -> None:
        """Take the session's current instructions and tools; progress is kept."""
        self.script = parse_script(instructions)
        self.tool_names = set(tool_names)

    @property
    def steps(self) -> list[str | SurveyQuestion]:
        steps: list[str | SurveyQuestion] = [self.script.question] if self.script.question else []
        return steps + list(self.script.survey)

    @property
    def current_step(self) -> str | SurveyQuestion | None:
        steps = self.steps
        return steps[self.step_index] if self.step_index < len(steps) else None

    def listening_vocabulary(self) -> tuple[str, ...]:
        """Words beyond the caller phrase bank worth listening for now (survey choices)."""
        step = self.current_step
        if isinstance(step, SurveyQuestion) and step.kind == "choice":
            return step.choices
        return ()

    def hear(self, words: list[str]) -> None:
        """A caller turn ended with these recognised words."""
        self._caller_turn = list(words)
        self._idle_prompts = 0

    def recall(self, said: str) -> None:
        """The client restored something the agent said earlier (a reconnect re-seeding the
        conversation): pick the script up where that line left it."""
        self.is_opened = True
        self._caller_turn = None
        spoken = " ".join(normalize_words(said))
        for index, step in enumerate(self.steps):
            text = step.text if isinstance(step, SurveyQuestion) else step
            if " ".join(normalize_words(text)) in spoken:
                self.step_index = index
        if " ".join(normalize_words(self.script.goodbye)) in spoken:
            self.is_ended = True

    def idle(self) -> None:
        """The caller stayed silent past the idle timeout."""
        self._is_idle_pending = True

    def next_actions(self, response_instructions: str | None = None) -> list[Action]:
        """What the next response says and does."""
        exact = say_directive(response_instructions)
        if exact is not None:
            return [Say(self.script.fill(exact))]
        if self._caller_turn is not None:
            words, self._caller_turn = self._caller_turn, None
            return _merged(self._react(words))
        if self._is_idle_pending:
            self._is_idle_pending = False
            return _merged(self._react_to_silence())
        if self._continuation:
            actions, self._continuation = self._continuation, []
            return _merged(actions)
        if not self.is_opened:
            return _merged(self._open())
        if self.is_ended:
            return []
        return _merged(self._ask())

    def _open(self) -> list[Action]:
        self.is_opened = True
        # With nothing to ask (an inbound line, say) the agent opens and then listens.
        return [Say(self.script.opening), *(self._ask() if self.current_step else [])]

    def _ask(self) -> list[Action]:
        step = self.current_step
        if step is None:
            return self._close()
        return [Say(step.text if isinstance(step, SurveyQuestion) else step)]

    def _close(self, *, before: list[Action] | None = None) -> list[Action]:
        self.is_ended = True
        actions = [*(before or []), Say(self.script.goodbye)]
        return actions + self._tool("end_call", {})

    def _tool(self, name: str, arguments: dict[str, Any]) -> list[Action]:
        return [CallTool(name, arguments)] if name in self.tool_names else []

    def _with_tool(self, name: str, arguments: dict[str, Any], then: list[Action]) -> list[Action]:
        """Call a tool and say `then` once its output is back; just `then` without the tool."""
        if name not in self.tool_names:
            return then
        self._continuation = then
        return [CallTool(name, arguments)]

    def _react(self, words: list[str]) -> list[Action]:
        intent = caller_intent(words)
        if self.is_ended:
            return []
        if not self.is_opened:
            return self._open()
        if intent == "opt_out":
            self.is_ended = True
            reply = [Say(self.script.opt_out_reply), *self._tool("end_call", {})]
            return self._with_tool("opt_out", {}, reply)
        if intent == "robot":
            return [Say(self.script.robot_reply), *self._ask()]
        if intent in ("goodbye", "voicemail"):
            return self._close()
        if intent in ("repeat", "hello"):
            return self._ask()
        step = self.current_step
        if step is None:
            return self._close()
        if isinstance(step, SurveyQuestion):
            answer = survey_answer(step, words)
            if answer is None:
                return [Say(NOT_CAUGHT), *self._ask()]
            arguments = {"question_id": step.id, "answer": answer}
            return self._with_tool("record_survey_answer", arguments, self._advance())
        outcome = _OUTCOMES.get(intent or "")
        if outcome is None:
            return [Say(NOT_CAUGHT), *self._ask()]
        then = self._advance()
        if outcome == "reschedule_requested":
            then = [Say(self.script.reschedule_reply), *then]
        return self._with_tool("record_outcome", {"outcome": outcome}, then)

    def _advance(self) -> list[Action]:
        self.step_index += 1
        return self._ask()

    def _react_to_silence(self) -> list[Action]:
        if self.is_ended:
            return []
        self._idle_prompts += 1
        if self._idle_prompts > MAX_IDLE_PROMPTS:
            return self._close()
        return [Say(STILL_THERE), *self._ask()]
