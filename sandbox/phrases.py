"""The phrase bank callers and the agent share in the sandbox.

Callers (carrier personas) say the phrases in `CALLER_PHRASES`; the model recognises
them in the audio with `CALLER_VOCABULARY` and maps the words back to an intent with
`caller_intent`. Personas listen to the agent with `AGENT_VOCABULARY` and react to the
cue groups in `AGENT_CUES` (see `agent_cues`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.speech import normalize_words

NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

# A few choice words personas may pick from a `choice: a|b|c` survey question; the
# model also listens for the choices each question names.
CHOICE_WORDS = ("morning", "afternoon", "evening", "email", "phone")

CALLER_PHRASES: dict[str, str] = {
    "hello": "Hello?",
    "confirm": "Yes, I will be there.",
    "decline": "No, I cannot make it.",
    "reschedule": "Can we reschedule to next week?",
    "opt_out": "Stop calling me.",
    "robot": "Are you a robot?",
    "yes": "Yes.",
    "okay": "Okay.",  # a backchannel: said over the agent, it asks for nothing
    "no": "No.",
    "repeat": "Sorry, what was that?",
    "feedback": "The staff were very friendly.",
    "goodbye": "Goodbye.",
    "voicemail": "Hi, you have reached Sam. Please leave a message after the tone.",
    "screener": (
        "Hi, the person you are calling is using a screening service. "
        "Please state your name and why you are calling."
    ),
    **{number: f"{number.capitalize()}." for number in NUMBER_WORDS},
    **{choice: f"{choice.capitalize()}." for choice in CHOICE_WORDS},
}

# Intents that answer a survey question rather than steer the call.
SURVEY_ANSWER_INTENTS = frozenset({"yes", "no", "feedback", *NUMBER_WORDS, *CHOICE_WORDS})

AGENT_CUES: dict[str, frozenset[str]] = {
    "disclosure": frozenset({"automated", "assistant", "artificial"}),
    "question": frozenset({"confirm", "appointment", "question", "survey", "scale", "rate"}),
    "goodbye": frozenset({"goodbye"}),
    "opt_out_offer": frozenset({"stop", "press"}),
}


def _vocabulary(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word for text in texts for word in normalize_words(text)))


# What the model listens for in caller audio, and personas in agent audio.
CALLER_VOCABULARY = _vocabulary(CALLER_PHRASES.values())
AGENT_VOCABULARY = _vocabulary(sorted(word for cue in AGENT_CUES.values() for word in cue))

_PHRASE_WORDS = {intent: normalize_words(text) for intent, text in CALLER_PHRASES.items()}

# A phrase counts as said when this share of its words was heard, in order: recognition
# may miss a short word, but a lone "no" must not read as "No, I cannot make it."
_MIN_COVERAGE = 0.6


def _in_order_matches(heard: list[str], phrase: list[str]) -> int:
    """Length of the longest common subsequence of two word lists."""
    previous = [0] * (len(phrase) + 1)
    for word in heard:
        current = [0]
        for index, expected in enumerate(phrase):
            if word == expected:
                current.append(previous[index] + 1)
            else:
                current.append(max(previous[index + 1], current[index]))
        previous = current
    return previous[-1]


def caller_intent(words: list[str]) -> str | None:
    """The intent (a `CALLER_PHRASES` key) a recognised word list expresses, if any.

    The phrase with the most words heard in order wins; ties go to the phrase heard
    most completely, then to the earlier phrase in `CALLER_PHRASES`.
    """
    heard = [word for text in words for word in normalize_words(text)]
    best: tuple[int, float] = (0, 0.0)
    best_intent = None
    for intent, phrase in _PHRASE_WORDS.items():
        matched = _in_order_matches(heard, phrase)
        coverage = matched / len(phrase)
        if matched and coverage >= _MIN_COVERAGE and (matched, coverage) > best:
            best, best_intent = (matched, coverage), intent
    return best_intent


def agent_cues(words: Iterable[str]) -> set[str]:
    """The `AGENT_CUES` groups a recognised word list touches ("disclosure", "goodbye", …)."""
    heard = {word for text in words for word in normalize_words(text)}
    return {cue for cue, keywords in AGENT_CUES.items() if heard & keywords}
