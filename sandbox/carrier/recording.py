"""A finished call's recording (two 8 kHz WAV tracks) and its log (JSON lines) on disk.

The inbound track is what the callee said; the outbound track is what the callee heard,
which is the audio that was played, never audio the app sent and then cleared. Both are
16-bit PCM decoded from the μ-law on the line, so any WAV reader opens them.

A call created with `Record=true`, or whose TwiML ran `<Start><Recording>`, also gets a
carrier recording, as Twilio makes one: a
resource with a RE… SID and one WAV file, two channels (`RecordingChannels=dual`: the
callee on the first, what the callee heard on the second) or the two mixed (`mono`),
served at the Recordings REST URL and announced by the recording status callback.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.carrier.calls import API_VERSION, Call, new_sid, rfc2822

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


@dataclass
class CarrierRecording:
    sid: str
    account_sid: str
    call_sid: str
    path: Path
    channels: int
    duration_seconds: int
    start_time: datetime | None
    source: str = "OutboundAPI"

    def resource(self) -> dict[str, Any]:
        """The recording as Twilio's REST API renders it."""
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "channels": self.channels,
            "duration": str(self.duration_seconds),
            "sid": self.sid,
            "source": self.source,
            "start_time": rfc2822(self.start_time),
            "status": "completed",
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{self.sid}.json",
        }


def save_carrier_recording(call: Call, directory: Path) -> CarrierRecording | None:
    """The recording a `Record=true` call gets at the carrier; None when the call was never
    answered (Twilio then reports the recording `absent`)."""
    if call.recording is None or call.answered_monotonic is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    callee = ULAW_TO_PCM16[np.frombuffer(bytes(call.caller_audio), dtype=np.uint8)]
    heard = ULAW_TO_PCM16[np.frombuffer(bytes(call.heard_audio), dtype=np.uint8)]
    frames = max(len(callee), len(heard))
    callee = np.pad(callee, (0, frames - len(callee)))
    heard = np.pad(heard, (0, frames - len(heard)))
    dual = call.recording.channels == "dual"
    if dual:
        samples = np.column_stack([callee, heard]).astype("<i2").ravel()
    else:
        mixed = np.clip(callee.astype(np.int32) + heard.astype(np.int32), -32768, 32767)
        samples = mixed.astype("<i2")
    recording = CarrierRecording(
        sid=new_sid("RE"),
        account_sid=call.account_sid,
        call_sid=call.sid,
        path=directory,  # named after the SID just below
        channels=2 if dual else 1,
        duration_seconds=round(frames / SAMPLE_RATE),
        start_time=call.start_time,
        source=call.recording.source,
    )
    recording.path = directory / f"{recording.sid}.wav"
    with wave.open(str(recording.path), "wb") as wav:
        wav.setnchannels(recording.channels)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(samples.tobytes())
    return recording
