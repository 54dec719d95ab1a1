"""Conversions between the session's audio formats and the μ-law 8 kHz the sandbox speaks.

The model listens (VAD, recognition) and speaks in μ-law 8 kHz, the format of
`sandbox.speech`. `audio/pcmu` passes through untouched; `audio/pcma` and 24 kHz
`audio/pcm` are converted on the way in and out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import soxr

from sandbox import speech

PCM_RATE = 24000


def _build_alaw_decode_table() -> np.ndarray:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


_ALAW_DECODE_TABLE = _build_alaw_decode_table()
_ALAW_SEGMENT_ENDS = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def alaw_to_pcm16(audio: bytes) -> np.ndarray:
    """Decode G.711 A-law bytes to int16 samples."""
    return _ALAW_DECODE_TABLE[np.frombuffer(audio, dtype=np.uint8)]


def pcm16_to_alaw(samples: np.ndarray) -> bytes:
    """Encode int16 samples as G.711 A-law (13-bit magnitudes, as the reference code)."""
    pcm = np.clip(np.asarray(samples).astype(np.int64), -32768, 32767) >> 3
    is_negative = pcm < 0
    magnitude = np.where(is_negative, -pcm - 1, pcm)
    mask = np.where(is_negative, 0x55, 0xD5)
    segment = np.searchsorted(_ALAW_SEGMENT_ENDS, magnitude)
    shift = np.where(segment < 2, 1, segment)
    code = np.where(
        segment >= 8,
        0x7F,
        (np.minimum(segment, 7) << 4) | ((magnitude >> np.minimum(shift, 8)) & 0x0F),
    )
    return (code ^ mask).astype(np.uint8).tobytes()


def bytes_per_ms(audio_format: dict[str, Any]) -> int:
    """How many bytes one millisecond of audio takes in `audio_format`."""
    return PCM_RATE * 2 // 1000 if audio_format["type"] == "audio/pcm" else 8


class InputDecoder:
    """Turns a session's incoming audio, chunk by chunk, into μ-law 8 kHz.

    Keeps resampler state between chunks so 24 kHz input has no seams at chunk edges.
    """

    def __init__(self, audio_format: dict[str, Any]) -> None:
        self.format_type = audio_format["type"]
        self._resampler = (
            soxr.ResampleStream(PCM_RATE, speech.SAMPLE_RATE, 1, dtype="float32")
            if self.format_type == "audio/pcm"
            else None
        )

    def decode(self, audio: bytes) -> bytes:
        if self.format_type == "audio/pcmu":
            return audio
        if self.format_type == "audio/pcma":
            return speech.pcm16_to_ulaw(alaw_to_pcm16(audio))
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float32)
        narrowband = self._resampler.resample_chunk(samples)
        return speech.pcm16_to_ulaw(np.round(narrowband))


def encode_output(ulaw: bytes, audio_format: dict[str, Any]) -> bytes:
    """One whole utterance of μ-law 8 kHz audio in the session's output format."""
    if audio_format["type"] == "audio/pcmu":
        return ulaw
    samples = speech.ulaw_to_pcm16(ulaw)
    if audio_format["type"] == "audio/pcma":
        return pcm16_to_alaw(samples)
    wideband = soxr.resample(samples.astype(np.float64), speech.SAMPLE_RATE, PCM_RATE)
    return np.clip(np.round(wideband), -32768, 32767).astype("<i2").tobytes()
