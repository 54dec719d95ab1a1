"""Who answers a sandbox call, decided by the called number, and how they behave.

A call's persona is the one assigned to its `To` number (`Carrier.assign_persona`, or
`POST /sandbox/personas` with `Number` and `Persona`), else the one its last two digits
name in this table, else "confirm":

    ..00 confirm          answers the question with "Yes, I will be there."
    ..01 decline          answers with "No, I cannot make it."
    ..02 reschedule       answers with "Can we reschedule to next week?"
    ..03 opt_out_spoken   after the first thing the agent says: "Stop calling me."
    ..04 opt_out_key      after the first thing the agent says, presses the opt-out key (9);
                          hangs up if the agent then says anything but goodbye
    ..05 barge_in         talks over the agent's opening ("Yes, I will be there.")
    ..06 hang_up_mid_call hangs up while the agent is still talking
    ..07 silent           picks up and never says a word
    ..08 voicemail        an answering machine: greeting, beep, records
    ..09 survey           answers survey questions (a number, a choice, yes, feedback)
    ..10 no_answer        rings until the call's Timeout
    ..11 busy             the line is busy
    ..12 failed           the call cannot be connected
    ..13 robot_question   asks "Are you a robot?" before answering the question
    ..14 backchannel      says "Okay." while the agent's opening plays, then answers the
                          question with "Yes, I will be there." (barge_in, by contrast,
                          really interrupts: a whole sentence over the opening)
    ..20 fax              a fax machine: answers with fax tones; detection says "fax"
    ..21 screener_person  a call screener asks who is calling and why, hears the answer, and
                          the person picks up ("Hello?") and answers the question
    ..22 screener_nobody  the same screener, but after hearing the answer it hangs up
    ..23 late_machine     a person who answers the question, while detection wrongly says
                          "machine_end_beep" after they spoke

Detection's verdict for an answering machine comes at the end of its beep; for a screener
("machine_end_other") and the late machine, once the callee's first words have ended.

Every talking persona reacts to what it heard once the agent has finished saying it: it
waits for the pause, answers, says "Hello?" when the agent stays silent, hangs up after
a second silence, and hangs up after hearing "goodbye".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sandbox import phrases
from sandbox.carrier.callee import Heard, Person

ANSWER = "answer"
NO_ANSWER = "no-answer"
BUSY = "busy"
FAILED = "failed"

DEFAULT_PERSONA = "confirm"
MAX_TURNS = 12
SURVEY_SCALE_ANSWER = "eight"

# A response to one heard utterance: an intent to say, a key to press, or nothing.
Reply = str | None
Responder = Callable[[Heard, int], Reply]
Script = Callable[[Person], Awaitable[None]]


@dataclass(frozen=True)
class Persona:
    name: str
    pickup: str = ANSWER
    script: Script | None = None
    is_machine: bool = False
    is_fax: bool = False
    # A fixed verdict, reached once the callee's first words have ended (a screener's
    # prompt, or a person detection mistakes for a machine).
    verdict_after_words: str | None = None

    def detection(
        self, machine_detection: str | None, *, beep_end_ms: int = 0
    ) -> tuple[str, int] | None:
        """Answering-machine detection's verdict for this persona and when it is reached (ms
        after answer; for `verdict_after_words`, ms after those words); None when the call
        did not ask for detection.
        """
        if machine_detection is None:
            return None
        if self.is_fax:
            return "fax", 2500
        if self.verdict_after_words is not None:
            verdict = self.verdict_after_words
            if machine_detection != "DetectMessageEnd" and verdict.startswith("machine_end"):
                verdict = "machine_start"  # `Enable` does not wait for a message's end
            return verdict, WORDS_END_MS
        if self.is_machine:
            if machine_detection == "DetectMessageEnd":
                return "machine_end_beep", beep_end_ms
            return "machine_start", 2000
        if self.name == "silent":
            return "unknown", 5000
        return "human", 1600


# Detection decides a greeting is over after this much silence (Twilio's default
# MachineDetectionSpeechEndThreshold).
WORDS_END_MS = 1200

KEY_PRESS = "key:"  # a Reply starting with this presses the key after it
HANG_UP = "hang-up"  # a Reply that ends the call


async def converse(person: Person, respond: Responder) -> None:
    """Listen, answer what `respond` says to each utterance, and end the call like people do."""
    said_hello = False
    for turn in range(MAX_TURNS):
        heard = await person.next_utterance()
        if heard is None:
            if said_hello:
                person.hang_up()
                return
            said_hello = True
            await person.say("hello")
            continue
        said_hello = False
        if "goodbye" in heard.cues:
            await person.pause(person.manners.reply_pause)
            person.hang_up()
            return
        reply = respond(heard, turn)
        if reply is None:
            continue
        await person.pause(person.manners.reply_pause)
        if reply == HANG_UP:
            person.hang_up()
            return
        if reply.startswith(KEY_PRESS):
            person.press(reply.removeprefix(KEY_PRESS))
        else:
            await person.say(reply)
    person.hang_up()


def answers_questions_with(intent: str) -> Script:
    def respond(heard: Heard, turn: int) -> Reply:
        return intent if "question" in heard.cues else None

    async def script(person: Person) -> None:
        await converse(person, respond)

    return script


def first_says(intent: str, then: Responder | None = None) -> Script:
    """Say `intent` after the first utterance, whatever it was; then respond with `then`."""

    def respond(heard: Heard, turn: int) -> Reply:
        if turn == 0:
            return intent
        return then(heard, turn) if then else None

    async def script(person: Person) -> None:
        await converse(person, respond)

    return script


async def presses_opt_out_key(person: Person) -> None:
    """Presses the key after the opening; hangs up if the agent talks on instead of goodbye."""
    digit_reply = KEY_PRESS + person.opt_out_digit
    await converse(person, lambda heard, turn: digit_reply if turn == 0 else HANG_UP)


async def barges_in(person: Person) -> None:
    await person.agent_speaks_for(person.manners.barge_in_after)
    await person.say("confirm")
    person.forget_heard()
    await answers_questions_with("confirm")(person)


async def acknowledges(person: Person) -> None:
    """Says "Okay." over the agent, as listeners do, and keeps listening to the same
    utterance: an agent that talks on is heard to its question and answered."""
    await person.agent_speaks_for(person.manners.barge_in_after)
    await person.say("okay")
    await answers_questions_with("confirm")(person)


async def hangs_up_mid_call(person: Person) -> None:
    await person.agent_speaks_for(person.manners.hang_up_after)
    person.hang_up()


async def stays_silent(person: Person) -> None:
    while True:
        heard = await person.next_utterance(patience=person.manners.silent_patience)
        if heard is None or "goodbye" in heard.cues:
            await person.pause(person.manners.reply_pause)
            person.hang_up()
            return


def screens_the_call(*, then_picks_up: bool) -> Script:
    """A call screener: asks who is calling and why, waits for the caller's answer, then the
    person picks up and talks, or the screener hangs up."""

    async def script(person: Person) -> None:
        await person.agent_speaks_for(person.manners.barge_in_after)
        await person.say("screener")
        person.forget_heard()  # the agent's opening, talked over
        heard = None
        for _ in range(MAX_TURNS):
            heard = await person.next_utterance()
            if heard is None or "disclosure" in heard.cues:
                break
        await person.pause(person.manners.reply_pause)
        if heard is None or not then_picks_up:
            person.hang_up()
            return
        await person.say("hello")
        await converse(person, _confirm_questions)

    return script


def survey_answer(heard: Heard, turn: int) -> Reply:
    words = set(heard.words)
    if words & {"scale", "rate"}:
        return SURVEY_SCALE_ANSWER
    for word in heard.words:
        if word in phrases.CHOICE_WORDS:
            return word
    if words & {"feedback", "comments"}:
        return "feedback"
    return "yes" if "question" in heard.cues else None


def _answers_survey() -> Script:
    async def script(person: Person) -> None:
        await converse(person, survey_answer)

    return script


def _confirm_questions(heard: Heard, turn: int) -> Reply:
    return "confirm" if "question" in heard.cues else None


PERSONAS: Mapping[str, Persona] = {
    persona.name: persona
    for persona in (
        Persona("confirm", script=answers_questions_with("confirm")),
        Persona("decline", script=answers_questions_with("decline")),
        Persona("reschedule", script=answers_questions_with("reschedule")),
        Persona("opt_out_spoken", script=first_says("opt_out")),
        Persona("opt_out_key", script=presses_opt_out_key),
        Persona("barge_in", script=barges_in),
        Persona("hang_up_mid_call", script=hangs_up_mid_call),
        Persona("silent", script=stays_silent),
        Persona("voicemail", is_machine=True),
        Persona("survey", script=_answers_survey()),
        Persona("no_answer", pickup=NO_ANSWER),
        Persona("busy", pickup=BUSY),
        Persona("failed", pickup=FAILED),
        Persona("robot_question", script=first_says("robot", then=_confirm_questions)),
        Persona("backchannel", script=acknowledges),
        Persona("fax", is_fax=True),
        Persona(
            "screener_person",
            script=screens_the_call(then_picks_up=True),
            verdict_after_words="machine_end_other",
        ),
        Persona(
            "screener_nobody",
            script=screens_the_call(then_picks_up=False),
            verdict_after_words="machine_end_other",
        ),
        Persona(
            "late_machine",
            script=answers_questions_with("confirm"),
            verdict_after_words="machine_end_beep",
        ),
    )
}

PERSONA_BY_LAST_TWO_DIGITS: Mapping[str, str] = {
    "00": "confirm",
    "01": "decline",
    "02": "reschedule",
    "03": "opt_out_spoken",
    "04": "opt_out_key",
    "05": "barge_in",
    "06": "hang_up_mid_call",
    "07": "silent",
    "08": "voicemail",
    "09": "survey",
    "10": "no_answer",
    "11": "busy",
    "12": "failed",
    "13": "robot_question",
    "14": "backchannel",
    "20": "fax",
    "21": "screener_person",
    "22": "screener_nobody",
    "23": "late_machine",
}


class UnknownPersona(ValueError):
    pass


def persona_named(name: str) -> Persona:
    try:
        return PERSONAS[name]
    except KeyError:
        raise UnknownPersona(f"unknown persona {name!r}; known: {sorted(PERSONAS)}") from None


def persona_for(number: str, assignments: Mapping[str, str]) -> Persona:
    """The persona who answers `number`: its assignment, else its last two digits, else confirm."""
    if number in assignments:
        return persona_named(assignments[number])
    return persona_named(PERSONA_BY_LAST_TWO_DIGITS.get(number[-2:], DEFAULT_PERSONA))
