"""Who answered, from the callee's transcribed words: an automated call screener (Google
Call Screen, iOS "who is calling and why"), an answering machine's greeting, or a person.

Answering-machine detection only tells people from machines; a screener sounds like a
machine that talks, and a greeting like a person who does not stop. Their wording is
recognisable, so the bridge reads each caller transcript with these before treating the
words as a person's (calls/bridge.py).
"""

import re

# Phrases call screeners say before passing the call on (Google Call Screen, Apple's
# "Screen Unknown Callers", carrier screeners), normalised like `_normalized`.
SCREENER_PHRASES = (
    "screening service",
    "call screening",
    "is screening",
    "screen this call",
    "state your name",
    "say your name",
    "record your name",
    "why you are calling",
    "why youre calling",
    "reason for your call",
    "reason for calling",
    "who is calling and why",
    "whos calling and why",
    "see if this person is available",
    "get a copy of this conversation",
)

# Phrases of answering-machine greetings.
GREETING_PHRASES = (
    "leave a message",
    "leave your message",
    "after the tone",
    "after the beep",
    "at the tone",
    "voicemail",
    "voice mail",
    "mailbox",
    "not available to take your call",
    "cannot take your call",
    "cant take your call",
    "unable to take your call",
    "you have reached",
    "youve reached",
)


def _normalized(text: str) -> str:
    return " " + " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower().replace("'", "")).split()) + " "


def _says_any(text: str, phrases: tuple[str, ...]) -> bool:
    spoken = _normalized(text)
    return any(f" {phrase} " in spoken for phrase in phrases)


def is_call_screener(text: str) -> bool:
    """The words are a call screener asking who is calling."""
    return _says_any(text, SCREENER_PHRASES)


def is_machine_greeting(text: str) -> bool:
    """The words are an answering machine's greeting, not a person talking."""
    return _says_any(text, GREETING_PHRASES)


def is_person(text: str) -> bool:
    """Words a person said: something, and neither a screener's nor a greeting's."""
    return bool(text.strip()) and not is_call_screener(text) and not is_machine_greeting(text)
