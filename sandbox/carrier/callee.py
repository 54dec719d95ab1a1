"""Whoever answers a sandbox call: a person with a mouth and ears, or an answering machine.

A person understands the agent only from the audio actually played to them: the phone line
hands them every 20 ms frame, they cut it into utterances at pauses, and recognise the words
of an utterance once it has finished playing. They speak real synthesised audio, one frame
per tick, and silence otherwise. Time is the line's time (ms since answer), so a person's
reactions follow the audio, not the machine's load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sandbox import phrases, speech
from sandbox.carrier.calls import Call, Utterance
from sandbox.carrier.line import FRAME_MS, SILENT_FRAME, PhoneLine
from sandbox.carrier.playback import FRAME_BYTES

# What a person listens for in agent speech: the cue words, plus what survey answers need.
LISTENING_VOCABULARY = tuple(
    dict.fromkeys((*phrases.AGENT_VOCABULARY, *phrases.CHOICE_WORDS, "feedback", "comments"))
)


@dataclass(frozen=True)
class Manners:
    """How a person paces a conversation (seconds of line time)."""

    end_of_utterance_gap: float = 0.6  # no agent audio for this long ends what they heard
    reply_pause: float = 0.4  # the pause before answering or hanging up
    patience: float = 5.0  # silence before "Hello?", and again before giving up
    barge_in_after: float = 1.0  # agent speech heard before an interrupter starts talking
    hang_up_after: float = 1.5  # agent speech heard before a mid-call hanger-up hangs up
    silent_patience: float = 30.0  # a silent person's silence before hanging up
    voicemail_max_message: float = 30.0  # an answering machine records this long at most


@dataclass(frozen=True)
class Heard:
    """One agent utterance as the person understood it."""

    start_ms: int
    end_ms: int
    words: tuple[str, ...]

    @property
    def cues(self) -> set[str]:
        return phrases.agent_cues(self.words)


class Person:
    def __init__(
        self,
        call: Call,
        manners: Manners,
        *,
        opt_out_digit: str = "9",
        vocabulary: Iterable[str] = LISTENING_VOCABULARY,
    ):
        self.call = call
        self.manners = manners
        self.opt_out_digit = opt_out_digit
        self.vocabulary = tuple(vocabulary)
        self.line: PhoneLine | None = None
        self.hung_up = asyncio.Event()
        self.has_spoken = asyncio.Event()  # set once a first utterance has been said in full
        self._mouth = bytearray()
        self._now_ms = 0
        self._current = bytearray()  # the agent utterance being heard
        self._current_start_ms = 0
        self._current_agent_ms = 0
        self._last_agent_audio_ms = 0
        self._last_spoke_ms = 0
        self._finished: asyncio.Queue[tuple[int, int, bytes]] = asyncio.Queue()
        self._ticked = asyncio.Event()

    # The line calls these every 20 ms.

    def speak_frame(self, at_ms: int) -> bytes:
        frame = bytes(self._mouth[:FRAME_BYTES])
        del self._mouth[:FRAME_BYTES]
        if frame:
            self._last_spoke_ms = at_ms + FRAME_MS
        return frame + SILENT_FRAME[len(frame) :]

    def hear(self, frame: bytes, played_bytes: int, at_ms: int) -> None:
        self._now_ms = at_ms + FRAME_MS
        if played_bytes:
            if not self._current:
                self._current_start_ms = at_ms
                self._current_agent_ms = 0
            self._current.extend(frame)
            self._current_agent_ms += FRAME_MS
            self._last_agent_audio_ms = self._now_ms
        elif self._current:
            if self._now_ms - self._last_agent_audio_ms >= self.manners.end_of_utterance_gap * 1000:
                self._finished.put_nowait(
                    (self._current_start_ms, self._last_agent_audio_ms, bytes(self._current))
                )
                self._current = bytearray()
            else:
                self._current.extend(frame)
        self._ticked.set()

    # What a persona's script does.

    @property
    def now_ms(self) -> int:
        return self._now_ms

    @property
    def is_speaking(self) -> bool:
        return bool(self._mouth)

    async def say(self, intent: str) -> None:
        """Say one of `phrases.CALLER_PHRASES` and return once it has all been spoken."""
        text = phrases.CALLER_PHRASES[intent]
        audio = await asyncio.to_thread(speech.synthesize, text)
        self.call.said.append(Utterance(self._now_ms, text))
        self.call.note("callee", "note", "says", text=text)
        self._mouth.extend(audio)
        while self._mouth:
            await self._next_tick()
        self.has_spoken.set()

    def press(self, digit: str) -> None:
        if self.line is not None:
            self.line.press(digit)

    def hang_up(self) -> None:
        self.call.note("callee", "note", "hangs up")
        self.hung_up.set()

    async def pause(self, seconds: float) -> None:
        until = self._now_ms + seconds * 1000
        while self._now_ms < until:
            await self._next_tick()

    async def next_utterance(self, patience: float | None = None) -> Heard | None:
        """The next agent utterance once it has finished playing, or None after `patience`
        seconds in which the agent said nothing (counted from the last sound either side made).
        """
        patience_ms = (self.manners.patience if patience is None else patience) * 1000
        listening_since = self._now_ms
        while self._finished.empty():
            quiet_since = max(listening_since, self._last_agent_audio_ms, self._last_spoke_ms)
            if not self._current and self._now_ms - quiet_since >= patience_ms:
                return None
            await self._next_tick()
        return await self._recognise(*self._finished.get_nowait())

    async def stop_listening(self) -> None:
        """At hang-up: recognise what was heard but not yet reacted to, for the call record."""
        if self._current:
            self._finished.put_nowait(
                (self._current_start_ms, self._last_agent_audio_ms, bytes(self._current))
            )
            self._current = bytearray()
        while not self._finished.empty():
            await self._recognise(*self._finished.get_nowait())

    async def _recognise(self, start_ms: int, end_ms: int, audio: bytes) -> Heard:
        recognised = await asyncio.to_thread(speech.recognize, audio, self.vocabulary)
        words = tuple(word for word, _ in recognised)
        self.call.heard.append(Utterance(start_ms, " ".join(words)))
        self.call.note("callee", "note", "heard", start_ms=start_ms, end_ms=end_ms, words=words)
        return Heard(start_ms, end_ms, words)

    async def agent_speaks_for(self, seconds: float) -> None:
        """Wait until the agent has been talking, in one utterance, for `seconds`."""
        while not (self._current and self._current_agent_ms >= seconds * 1000):
            await self._next_tick()

    def forget_heard(self) -> None:
        """Drop the utterances heard so far (an interrupter does not answer what they cut off)."""
        while not self._finished.empty():
            self._finished.get_nowait()
        self._current = bytearray()

    async def _next_tick(self) -> None:
        self._ticked.clear()
        await self._ticked.wait()


def beep(ms: int = 500, frequency: int = 1000) -> bytes:
    """An answering machine's beep, μ-law."""
    t = np.arange(ms * speech.BYTES_PER_MS) / speech.SAMPLE_RATE
    return speech.pcm16_to_ulaw(np.round(8000 * np.sin(2 * np.pi * frequency * t)))


def fax_tones(seconds: float) -> bytes:
    """A calling fax machine's CNG signal: 0.5 s of 1100 Hz every 3.5 s."""
    cycle = beep(500, frequency=1100) + speech.silence(3000)
    return cycle * max(1, round(seconds / 3.5))


class AnsweringMachine:
    """Plays its greeting and a beep, then records whatever it is sent, up to a limit: the
    message is kept on the call (`Call.voicemail_audio`) for tests to listen to."""

    def __init__(self, call: Call, manners: Manners):
        self.call = call
        self.manners = manners
        self.line: PhoneLine | None = None
        self.hung_up = asyncio.Event()
        self.greeting = speech.synthesize(phrases.CALLER_PHRASES["voicemail"]) + speech.silence(300)
        self.beep = beep()
        self._mouth = bytearray(self.greeting + self.beep)
        self._now_ms = 0

    @property
    def beep_end_ms(self) -> int:
        return (len(self.greeting) + len(self.beep)) // speech.BYTES_PER_MS

    def speak_frame(self, at_ms: int) -> bytes:
        frame = bytes(self._mouth[:FRAME_BYTES])
        del self._mouth[:FRAME_BYTES]
        return frame + SILENT_FRAME[len(frame) :]

    def hear(self, frame: bytes, played_bytes: int, at_ms: int) -> None:
        self._now_ms = at_ms + FRAME_MS
        if at_ms >= self.beep_end_ms and not self.hung_up.is_set():
            self.call.voicemail_audio.extend(frame)
        if self._now_ms >= self.beep_end_ms + self.manners.voicemail_max_message * 1000:
            if not self.hung_up.is_set():
                self.call.note("callee", "note", "voicemail message limit reached")
            self.hung_up.set()


class FaxMachine:
    """Answers with fax tones and never says a word; hangs up after `voicemail_max_message`
    like a machine that gave up on the handshake."""

    def __init__(self, call: Call, manners: Manners):
        self.call = call
        self.manners = manners
        self.line: PhoneLine | None = None
        self.hung_up = asyncio.Event()
        self._mouth = bytearray(fax_tones(manners.voicemail_max_message))

    def speak_frame(self, at_ms: int) -> bytes:
        frame = bytes(self._mouth[:FRAME_BYTES])
        del self._mouth[:FRAME_BYTES]
        if not self._mouth and not self.hung_up.is_set():
            self.call.note("callee", "note", "fax machine gave up")
            self.hung_up.set()
        return frame + SILENT_FRAME[len(frame) :]

    def hear(self, frame: bytes, played_bytes: int, at_ms: int) -> None:
        pass
