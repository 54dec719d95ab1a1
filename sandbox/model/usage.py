"""Token accounting for `response.done.usage`, with OpenAI's field names and audio rates.

Caller audio costs 10 tokens per second and model audio 20 per second; text is taken as
one token per four characters. Every response re-reads the whole conversation as input;
whatever an earlier response already read counts as cached, as OpenAI's prompt cache
would make it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

INPUT_AUDIO_TOKENS_PER_SECOND = 10
OUTPUT_AUDIO_TOKENS_PER_SECOND = 20


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def input_audio_tokens(ms: int) -> int:
    return math.ceil(ms * INPUT_AUDIO_TOKENS_PER_SECOND / 1000)


def output_audio_tokens(ms: int) -> int:
    return math.ceil(ms * OUTPUT_AUDIO_TOKENS_PER_SECOND / 1000)


@dataclass(frozen=True)
class TokenCount:
    text: int = 0
    audio: int = 0

    def __add__(self, other: TokenCount) -> TokenCount:
        return TokenCount(self.text + other.text, self.audio + other.audio)


def response_usage(
    *, conversation: TokenCount, already_read: TokenCount, output: TokenCount
) -> dict[str, Any]:
    """The `usage` object of one response."""
    cached = TokenCount(
        min(already_read.text, conversation.text), min(already_read.audio, conversation.audio)
    )
    input_tokens = conversation.text + conversation.audio
    output_tokens = output.text + output.audio
    return {
        "total_tokens": input_tokens + output_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {
            "text_tokens": conversation.text,
            "audio_tokens": conversation.audio,
            "image_tokens": 0,
            "cached_tokens": cached.text + cached.audio,
            "cached_tokens_details": {
                "text_tokens": cached.text,
                "audio_tokens": cached.audio,
                "image_tokens": 0,
            },
        },
        "output_token_details": {"text_tokens": output.text, "audio_tokens": output.audio},
    }
