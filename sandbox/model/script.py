"""What the session's instructions tell the sandbox model to say, per VoiceOps prompt conventions.

One directive per line, anywhere in the instructions:
`Opening: "…"`, `Question: "…"`, `Survey question <id> (<kind>): "…"` (kind `yes_no`,
`scale`, `choice: a|b|c` or `text`), `Goodbye: "…"`, `Opt-out reply: "…"`,
`Reschedule reply: "…"`, `Robot reply: "…"`. A `response.create` whose instructions hold
`Say: "…"` makes the model say exactly that.

The model is careless the way a real one can be: it follows the first line of each kind it
finds anywhere in the instructions, whoever wrote it, so text that smuggles an `Opening:`
or `Robot reply:` line into the instructions takes over the script. The one thing it
respects is the contact data block: lines between `<<<CONTACT DATA` and `CONTACT DATA>>>`
(`"name": "value"`, JSON-quoted) are data, never followed, and only used to fill in
`[contact data: name]` references in the lines it says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

DEFAULT_OPENING = "Hello, this is an automated assistant calling."
DEFAULT_GOODBYE = "Thank you for your time. Goodbye."
DEFAULT_OPT_OUT_REPLY = "Understood. You will not be called again. Goodbye."
DEFAULT_RESCHEDULE_REPLY = "Of course. We will call you back to find a new time."
DEFAULT_ROBOT_REPLY = "Yes, I am an automated AI assistant."

_LINE_START = r"^[ \t>*\-]*"
_QUOTED = r'"(?P<text>[^"\n]*)"'
_DIRECTIVES = {
    "opening": "Opening",
    "question": "Question",
    "goodbye": "Goodbye",
    "opt_out_reply": "Opt-out reply",
    "reschedule_reply": "Reschedule reply",
    "robot_reply": "Robot reply",
}
_SURVEY_QUESTION = re.compile(
    _LINE_START + r"Survey question (?P<id>[^\s(]+) \((?P<kind>[^)]*)\):\s*" + _QUOTED,
    re.MULTILINE | re.IGNORECASE,
)
_SAY = re.compile(r"Say:\s*" + _QUOTED)
_DATA_BLOCK = re.compile(
    r"^<<<CONTACT DATA\n(?P<lines>.*?)^CONTACT DATA>>>$", re.MULTILINE | re.DOTALL
)
_REFERENCE = re.compile(r"\[contact data: (?P<name>[^\]\n]+)\]")


@dataclass(frozen=True)
class SurveyQuestion:
    id: str
    kind: str  # yes_no, scale, choice or text
    text: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Script:
    opening: str = DEFAULT_OPENING
    question: str | None = None
    survey: tuple[SurveyQuestion, ...] = field(default_factory=tuple)
    goodbye: str = DEFAULT_GOODBYE
    opt_out_reply: str = DEFAULT_OPT_OUT_REPLY
    reschedule_reply: str = DEFAULT_RESCHEDULE_REPLY
    robot_reply: str = DEFAULT_ROBOT_REPLY
    data: dict[str, str] = field(default_factory=dict)

    def fill(self, text: str) -> str:
        """`text` with each `[contact data: name]` replaced by its value (kept if unknown)."""
        return _REFERENCE.sub(lambda match: self.data.get(match["name"], match[0]), text)


def _directive(instructions: str, label: str) -> str | None:
    pattern = re.compile(_LINE_START + re.escape(label) + r":\s*" + _QUOTED, re.MULTILINE)
    match = pattern.search(instructions)
    return match["text"] if match else None


def _survey_question(match: re.Match[str]) -> SurveyQuestion:
    kind, _, choices = match["kind"].partition(":")
    kind = kind.strip().lower()
    options = tuple(choice.strip().lower() for choice in choices.split("|") if choice.strip())
    return SurveyQuestion(id=match["id"], kind=kind, text=match["text"], choices=options)


def contact_data(instructions: str) -> tuple[str, dict[str, str]]:
    """The instructions without their contact data blocks, and the values the blocks hold."""
    data: dict[str, str] = {}
    for block in _DATA_BLOCK.finditer(instructions):
        for line in block["lines"].splitlines():
            try:
                data.update(json.loads("{" + line + "}"))
            except json.JSONDecodeError:
                continue
    return _DATA_BLOCK.sub("", instructions), data


def parse_script(instructions: str) -> Script:
    """The script the instructions describe; defaults fill what they leave out."""
    text, data = contact_data(instructions)
    blank = Script(data=data)
    found = {
        name: blank.fill(line)
        for name, label in _DIRECTIVES.items()
        if (line := _directive(text, label)) is not None
    }
    survey = tuple(_survey_question(match) for match in _SURVEY_QUESTION.finditer(text))
    survey = tuple(
        SurveyQuestion(id=q.id, kind=q.kind, text=blank.fill(q.text), choices=q.choices)
        for q in survey
    )
    return Script(**found, survey=survey, data=data)


def say_directive(instructions: str | None) -> str | None:
    """The exact text a response's `Say: "…"` instruction asks for, if any."""
    if not instructions:
        return None
    match = _SAY.search(instructions)
    return match["text"] if match else None
