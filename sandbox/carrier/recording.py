"""A finished call's recording (two 8 kHz WAV tracks) and its log (JSON lines) on disk.

The inbound track is what the callee said; the outbound track is what the callee heard,
which is the audio that was played, never audio the app sent and then cleared. Both are
16-bit PCM decoded from the μ-law on the line, so any WAV reader opens them.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np

from sandbox.carrier.calls import Call

SAMPLE_RATE = 8000


def _ulaw_decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype("<i2")


ULAW_TO_PCM16 = _ulaw_decode_table()


def write_wav(path: Path, ulaw: bytes) -> None:
    pcm = ULAW_TO_PCM16[np.frombuffer(ulaw, dtype=np.uint8)]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())


def read_wav_pcm16(path: Path) -> np.ndarray:
    """The samples of a recording track, for tests comparing what was heard."""
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def save_call(call: Call, directory: Path) -> None:
    """Write the call's recording tracks and log under `directory`; records the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    if call.answered_monotonic is not None:
        for track, audio in (("inbound", call.caller_audio), ("outbound", call.heard_audio)):
            path = directory / f"{call.sid}-{track}.wav"
            write_wav(path, bytes(audio))
            call.recording_paths[track] = path
    log_path = directory / f"{call.sid}.jsonl"
    with log_path.open("w", encoding="utf-8") as log_file:
        for entry in call.log_entries():
            log_file.write(json.dumps(entry, default=str) + "\n")
    call.log_path = log_path
