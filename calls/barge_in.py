"""When the caller's speech over the agent is an interruption, and when it is only a
backchannel ("okay", "mm-hm", a cough) that must not cut the agent off.

With `immediate` barge-in the agent stops at the model's `speech_started`. With
`ignore_backchannels` the speech is a candidate until one of these proves it an interruption:

- it lasts `min_speech_ms`: the model reports `speech_stopped` only a silence window after
  the last sound, so speech with no stop `min_speech_ms` + that window (+ a little slack)
  after its start is at least that long; measured on the call's own audio clock, not the
  wall clock;
- `speech_stopped` shows it lasted `min_speech_ms`;
- its transcript holds a word that is not an acknowledgement ("no", "wait", a question).

Anything else (acknowledgements only, or no words: noise) lets the agent talk on.
"""

import re
from dataclasses import dataclass

from agents.models import BargeIn

# Acknowledgements per language, as transcription models spell them. A language without a
# list is decided by duration alone: short speech never interrupts, whatever it says.
BACKCHANNEL_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "ok okay k kay alright right sure yes yeah yep yup mm mmm hm hmm mhm mm-hm mm-hmm "
        "uh-huh uh huh um ah oh aha i see got it cool great good fine".split()
    ),
    "es": frozenset({"ok", "okay", "vale", "sí", "si", "claro", "ajá", "aja", "mhm", "bueno"}),
    "fr": frozenset({"ok", "okay", "oui", "ouais", "d'accord", "mhm", "hm", "ah", "bon"}),
    "de": frozenset({"ok", "okay", "ja", "genau", "mhm", "hm", "aha", "gut", "klar"}),
}

# An acknowledgement is short: more words than this is saying something.
MAX_BACKCHANNEL_WORDS = 3
# How much later than its start the model may report the end of a short sound.
STOP_REPORT_SLACK_MS = 100

_WORD = re.compile(r"[\w'-]+")


def transcript_words(transcript: str) -> list[str]:
    return [word.strip("-'") for word in _WORD.findall(transcript.lower()) if word.strip("-'")]


@dataclass(frozen=True)
class BargeInPolicy:
    """An agent's barge-in setting, with what its turn detection implies for timing."""

    is_immediate: bool
    min_speech_ms: int
    # What server VAD adds around speech: `audio_start_ms` is `prefix_padding_ms` early and
    # `audio_end_ms` `silence_duration_ms` late. None for semantic VAD (no fixed window).
    prefix_padding_ms: int | None
    silence_duration_ms: int | None
    backchannels: frozenset[str] | None

    @classmethod
    def for_agent(cls, *, mode: str, min_speech_ms: int, turn_detection: dict, language: str):
        is_server_vad = turn_detection.get("type") == "server_vad"
        return cls(
            is_immediate=mode == BargeIn.IMMEDIATE,
            min_speech_ms=min_speech_ms,
            prefix_padding_ms=turn_detection.get("prefix_padding_ms", 300)
            if is_server_vad
            else None,
            silence_duration_ms=turn_detection.get("silence_duration_ms", 500)
            if is_server_vad
            else None,
            backchannels=BACKCHANNEL_WORDS.get(language.split("-")[0].lower()),
        )

    def proof_wait_ms(self) -> int:
        """Caller audio after `speech_started` with no `speech_stopped` that proves the speech
        at least `min_speech_ms` long: the stop comes a silence window after the last sound,
        and may be reported a little later than the start was. Semantic VAD has no fixed
        window and waits longer before it stops: 500 ms is assumed."""
        window = self.silence_duration_ms if self.silence_duration_ms is not None else 500
        return self.min_speech_ms + window + STOP_REPORT_SLACK_MS

    def speech_ms(self, *, audio_start_ms: int, audio_end_ms: int) -> int | None:
        """How long the caller made sound, from `speech_started`/`speech_stopped`."""
        if self.prefix_padding_ms is None or self.silence_duration_ms is None:
            return None
        return audio_end_ms - audio_start_ms - self.prefix_padding_ms - self.silence_duration_ms

    def is_long_enough(self, speech_ms: int | None) -> bool:
        return speech_ms is not None and speech_ms >= self.min_speech_ms

    def is_backchannel(self, transcript: str) -> bool:
        """True for words that only acknowledge (or none: noise); False for anything else."""
        words = transcript_words(transcript)
        if not words:
            return True
        if self.backchannels is None:
            return True  # decided by duration alone (see BACKCHANNEL_WORDS)
        return len(words) <= MAX_BACKCHANNEL_WORDS and all(
            word in self.backchannels for word in words
        )
