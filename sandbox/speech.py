"""Synthetic speech both sandbox sides share: espeak-ng words in, template matching out.

Callers and the agent understand each other only from the audio bytes they exchange.
Every word is rendered once by espeak-ng, resampled to 8 kHz and μ-law encoded; an
utterance is those word renderings separated by short silences, so the same word is
always the same bytes and a listener can find it again by normalised cross-correlation.

espeak-ng keeps state between utterances (pitch flutter, wave phase) in function
statics that no API call resets, so rendering "yes" twice in one process gives two
different waveforms. Each word is therefore rendered in a forked child of a small
helper process whose espeak-ng has been initialised but has never spoken: every word
starts from the same pristine state, in every process, on every run.
"""

from __future__ import annotations

import functools
import re
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable

import numpy as np
import soxr

SAMPLE_RATE = 8000  # μ-law, mono
BYTES_PER_MS = SAMPLE_RATE // 1000
ULAW_SILENCE = 0xFF

# Gaps stay well under server VAD's default 500 ms silence window, so one sentence is
# one speech segment; a comma or full stop pauses a little longer, as people do.
WORD_GAP_MS = 60
PUNCTUATION_GAP_MS = 180

# A window counts as a word when its cosine similarity with the word's rendering reaches
# this. Bit-exact audio scores 1.0; audio that went through 24 kHz PCM and back scores
# a little less; different words stay far below.
MATCH_THRESHOLD = 0.95

_ESPEAK_SAMPLE_RATE = 22050
_TRIM_LEVEL = 200  # int16 amplitude below which leading/trailing samples count as silence
# A recognised word must be preceded and followed by this much near-silence.
_GUARD_MS = 30
_GUARD_LEVEL = 2 * _TRIM_LEVEL

_WORD_PATTERN = re.compile(r"[a-z0-9']+")


class SpeechEngineError(RuntimeError):
    """espeak-ng could not be loaded or failed to render a word."""


def normalize_words(text: str) -> list[str]:
    """The words of `text` as they are rendered and matched: lower case, no punctuation."""
    words = []
    for raw in text.lower().split():
        words.extend(word.strip("'") for word in _WORD_PATTERN.findall(raw))
    return [word for word in words if word]


# μ-law codec (ITU-T G.711), vectorised.

_ULAW_BIAS = 0x84
# The encoder works on 14-bit magnitudes, as the G.711 reference code does.
_ULAW_BIAS_14 = 0x21
_ULAW_CLIP_14 = 8159
_ULAW_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _build_ulaw_decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_ULAW_DECODE_TABLE = _build_ulaw_decode_table()


def ulaw_to_pcm16(audio: bytes) -> np.ndarray:
    """Decode G.711 μ-law bytes to int16 samples."""
    return _ULAW_DECODE_TABLE[np.frombuffer(audio, dtype=np.uint8)]


def pcm16_to_ulaw(samples: np.ndarray) -> bytes:
    """Encode int16 samples (any integer or float array in int16 range) as G.711 μ-law."""
    pcm = np.clip(np.asarray(samples).astype(np.int64), -32768, 32767) >> 2  # 14-bit
    is_negative = pcm < 0
    magnitude = np.minimum(np.where(is_negative, -pcm, pcm), _ULAW_CLIP_14) + _ULAW_BIAS_14
    segment = np.searchsorted(_ULAW_SEGMENT_ENDS, magnitude)
    code = np.where(
        segment >= 8,
        0x7F,
        (np.minimum(segment, 7) << 4) | ((magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F),
    )
    return (code ^ np.where(is_negative, 0x7F, 0xFF)).astype(np.uint8).tobytes()


def silence(ms: int) -> bytes:
    """`ms` milliseconds of μ-law silence."""
    return bytes([ULAW_SILENCE]) * (ms * BYTES_PER_MS)


def duration_ms(audio: bytes) -> int:
    """Length of μ-law `audio` in milliseconds."""
    return len(audio) // BYTES_PER_MS


# Rendering: a helper process that forks one pristine child per word.

_RENDERER_SOURCE = r"""
import ctypes, os, struct, sys
import espeakng_loader

library = ctypes.CDLL(espeakng_loader.get_library_path())
library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
library.espeak_Synth.argtypes = [
    ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
    ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
]
SYNCHRONOUS = 2
rate = library.espeak_Initialize(SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
if rate <= 0 or library.espeak_SetVoiceByName(b"en-us") != 0:
    sys.exit(3)
chunks = []
CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
def collect(wav, count, events):
    if count > 0 and wav:
        chunks.append(ctypes.string_at(wav, count * 2))
    return 0
callback = CALLBACK(collect)
library.espeak_SetSynthCallback(callback)
requests, replies = sys.stdin.buffer, sys.stdout.buffer
for line in requests:
    text = line.rstrip(b"\n") + b"\0"
    child = os.fork()
    if child == 0:
        CHARS_UTF8 = 1
        library.espeak_Synth(text, len(text), 0, 1, 0, CHARS_UTF8, None, None)
        library.espeak_Synchronize()
        pcm = b"".join(chunks)
        replies.write(struct.pack("<I", len(pcm)) + pcm)
        replies.flush()
        os._exit(0)
    os.waitpid(child, 0)
"""


class _Renderer:
    """Talks to the helper process; one request at a time (espeak-ng is not thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def render(self, word: str) -> np.ndarray:
        with self._lock:
            for attempt in range(2):
                process = self._running_process()
                try:
                    process.stdin.write(word.encode() + b"\n")
                    process.stdin.flush()
                    return self._read_reply(process)
                except (BrokenPipeError, SpeechEngineError):
                    self._process = None
                    if attempt:
                        raise
        raise SpeechEngineError(f"could not render {word!r}")

    def _running_process(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _RENDERER_SOURCE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        return self._process

    @staticmethod
    def _read_reply(process: subprocess.Popen[bytes]) -> np.ndarray:
        header = process.stdout.read(4)
        if len(header) != 4:
            raise SpeechEngineError("the espeak-ng renderer exited")
        (length,) = struct.unpack("<I", header)
        pcm = process.stdout.read(length)
        if len(pcm) != length:
            raise SpeechEngineError("the espeak-ng renderer sent a short reply")
        return np.frombuffer(pcm, dtype=np.int16)


_renderer = _Renderer()


@functools.cache
def word_audio(word: str) -> bytes:
    """μ-law rendering of one normalised word, trimmed of leading and trailing silence."""
    pcm = _renderer.render(word)
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > _TRIM_LEVEL)
    if loud.size == 0:
        return b""
    trimmed = pcm[loud[0] : loud[-1] + 1].astype(np.float64)
    resampled = soxr.resample(trimmed, _ESPEAK_SAMPLE_RATE, SAMPLE_RATE, quality="HQ")
    return pcm16_to_ulaw(np.round(resampled))


def synthesize(text: str) -> bytes:
    """μ-law 8 kHz audio of `text`: its words' renderings separated by short silences.

    Deterministic: the same text gives the same bytes in every process.
    """
    pieces: list[bytes] = []
    gap_ms = 0
    for raw in text.split():
        for word in normalize_words(raw):
            if pieces:
                pieces.append(silence(gap_ms))
            pieces.append(word_audio(word))
            gap_ms = WORD_GAP_MS
        if pieces and raw[-1] in ",.;:!?":
            gap_ms = PUNCTUATION_GAP_MS
    return b"".join(pieces)


# Recognition: normalised cross-correlation of each word's rendering with the audio.


@functools.cache
def _template(word: str) -> np.ndarray:
    return ulaw_to_pcm16(word_audio(word)).astype(np.float64)


class _Signal:
    """Audio prepared once for matching against many word templates."""

    def __init__(self, audio: bytes, longest_template: int) -> None:
        self.samples = ulaw_to_pcm16(audio).astype(np.float64)
        self.fft_size = 1 << max(0, (self.samples.size + longest_template - 1).bit_length())
        self.spectrum = np.fft.rfft(self.samples, self.fft_size)
        self.cumulative_energy = np.concatenate(([0.0], np.cumsum(self.samples**2)))

    def word_scores(self, template: np.ndarray) -> np.ndarray:
        """Cosine similarity between `template` and every window of its length."""
        window = template.size
        correlation = np.fft.irfft(
            self.spectrum * np.conj(np.fft.rfft(template, self.fft_size)), self.fft_size
        )[: self.samples.size - window + 1]
        window_energy = self.cumulative_energy[window:] - self.cumulative_energy[:-window]
        template_energy = float(template @ template)
        # Windows far quieter or louder than the word cannot be the word, whatever their shape.
        plausible = (window_energy > template_energy * 0.05) & (
            window_energy < template_energy * 20
        )
        scores = np.zeros_like(correlation)
        scores[plausible] = correlation[plausible] / np.sqrt(
            window_energy[plausible] * template_energy
        )
        return scores


def _peaks(scores: np.ndarray, min_distance: int) -> list[tuple[int, float]]:
    """Local maxima above the threshold, at least `min_distance` samples apart."""
    found: list[tuple[int, float]] = []
    candidates = np.flatnonzero(scores >= MATCH_THRESHOLD)
    for index in candidates[np.argsort(-scores[candidates], kind="stable")]:
        if all(abs(index - kept) >= min_distance for kept, _ in found):
            found.append((int(index), float(scores[index])))
    return found


def _is_set_apart(signal: np.ndarray, start: int, end: int) -> bool:
    """Whether the stretch is bounded by silence (or the audio's edges), as spoken words are.

    This is what tells "yes" apart from the end of "press": the word sounds alike, but
    only a word said on its own has a pause on both sides.
    """
    guard = _GUARD_MS * BYTES_PER_MS
    before = signal[max(0, start - guard) : start]
    after = signal[end : end + guard]
    return all(side.size == 0 or np.max(np.abs(side)) < _GUARD_LEVEL for side in (before, after))


def recognize(audio: bytes, vocabulary: Iterable[str]) -> list[tuple[str, int]]:
    """Words of `vocabulary` heard in μ-law `audio`, with start offsets in ms, in time order.

    Where two words match overlapping stretches of audio, the better match wins (words
    whose renderings are identical resolve to the first in `vocabulary`).
    """
    words = list(dict.fromkeys(w for entry in vocabulary for w in normalize_words(entry)))
    templates = {word: _template(word) for word in words}
    longest = max((template.size for template in templates.values()), default=0)
    signal = _Signal(audio, longest)
    candidates: list[tuple[float, int, int, int, str]] = []
    for rank, (word, template) in enumerate(templates.items()):
        if template.size == 0 or template.size > signal.samples.size:
            continue
        for start, score in _peaks(signal.word_scores(template), template.size // 2):
            end = start + template.size
            if _is_set_apart(signal.samples, start, end):
                candidates.append((-score, rank, start, end, word))
    accepted: list[tuple[int, int, str]] = []
    for _, _, start, end, word in sorted(candidates):
        if all(end <= kept_start or start >= kept_end for kept_start, kept_end, _ in accepted):
            accepted.append((start, end, word))
    return [(word, start // BYTES_PER_MS) for start, _, word in sorted(accepted)]
