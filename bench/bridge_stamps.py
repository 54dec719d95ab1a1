"""Recognising one audio payload where it arrives: a 9-byte stamp at the head of its bytes.

The bridge passes μ-law payloads through untouched in both directions, so the sender
writes (source, sequence, flags) into the first bytes and the receiver reads them back
from the first 12 base64 characters, without decoding the rest. 9 bytes is a whole
number of base64 groups, so a payload is the encoded stamp followed by a tail encoded once.

Times on both sides are `time.monotonic()`: on Linux that is CLOCK_MONOTONIC, one clock
for every process on the machine, and unlike the wall clock it is never stepped mid-run.
"""

import base64
import struct

STAMP = struct.Struct(">IIB")
STAMP_BASE64_CHARS = 12
IS_SPEECH = 1  # the caller is talking in this frame (the bench model's stand-in for VAD)
SILENCE = 0xFF  # μ-law for a zero sample
BYTES_PER_MS = 8


class StampedAudio:
    """Payloads of `size` bytes of silence, each carrying its own stamp."""

    def __init__(self, size: int):
        if size <= STAMP.size:
            raise ValueError(f"a payload must be longer than its {STAMP.size}-byte stamp")
        self.size = size
        self._tail = base64.b64encode(bytes([SILENCE]) * (size - STAMP.size)).decode()

    def payload(self, source: int, sequence: int, flags: int = 0) -> str:
        return base64.b64encode(STAMP.pack(source, sequence, flags)).decode() + self._tail


def read_stamp(payload: str) -> tuple[int, int, int]:
    """(source, sequence, flags) from a payload, or from its first 12 characters."""
    return STAMP.unpack(base64.b64decode(payload[:STAMP_BASE64_CHARS]))


def payload_after(text: str, key: str) -> str | None:
    """The start of the base64 string following `key` in a JSON text, without parsing it.
    Base64 holds no character JSON escapes, so the value is verbatim in the text."""
    start = text.find(key)
    if start < 0:
        return None
    return text[start + len(key) : start + len(key) + STAMP_BASE64_CHARS]
