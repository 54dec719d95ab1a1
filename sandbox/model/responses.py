"""Streaming one Realtime response: output items, audio and transcript deltas, function calls.

Audio is generated faster than it plays (`audio_pace` times real time, or as fast as
possible when the pace is None), in 100 ms deltas, after the session's `first_audio_delay`
(a slow model: the time a loaded real API takes to its first audio of a response), and stops at the next delta once the
response is cancelled, so an interrupted item holds only the audio actually sent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox import speech
from sandbox.model.audio_formats import bytes_per_ms, encode_output
from sandbox.model.conversation import Item
from sandbox.model.policy import CallTool
from sandbox.model.protocol import new_id, server_event
from sandbox.model.usage import TokenCount

if TYPE_CHECKING:
    from sandbox.model.realtime import RealtimeSession

AUDIO_DELTA_MS = 100
RATE_LIMITS = [
    {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
    {"name": "tokens", "limit": 4000000, "remaining": 3990000, "reset_seconds": 0.15},
]


@dataclass
class ActiveResponse:
    id: str
    output_modalities: list[str]
    conversation: TokenCount
    output: list[Item] = field(default_factory=list)
    output_audio_ms: int = 0
    output_text: str = ""
    cancel_reason: str | None = None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def wire(self, status: str, usage: dict[str, Any] | None = None) -> dict[str, Any]:
        details = None
        if status == "cancelled":
            details = {"type": "cancelled", "reason": self.cancel_reason}
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": details,
            "output": [item.to_wire() for item in self.output],
            "conversation_id": "conv_sandbox",
            "output_modalities": self.output_modalities,
            "max_output_tokens": "inf",
            "metadata": None,
            "usage": usage,
        }


class ResponseStream:
    """Sends the output of one response on its session's socket."""

    def __init__(self, session: RealtimeSession, response: ActiveResponse) -> None:
        self.session = session
        self.response = response

    async def _pause(self, audio_ms: int) -> None:
        if not self.session.audio_pace:
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self.response.cancelled.wait(), audio_ms / 1000 / self.session.audio_pace
            )

    async def _open_output_item(self, item: Item) -> int:
        output_index = len(self.response.output)
        self.response.output.append(item)
        previous_item_id = next(reversed(self.session.items), None)
        self.session.items[item.id] = item
        await self.session.send(
            server_event(
                "response.output_item.added",
                response_id=self.response.id,
                output_index=output_index,
                item=item.to_wire(),
            )
        )
        await self.session.send(
            server_event(
                "conversation.item.added", item=item.to_wire(), previous_item_id=previous_item_id
            )
        )
        return output_index

    async def _close_output_item(self, item: Item, output_index: int) -> None:
        await self.session.send(
            server_event(
                "response.output_item.done",
                response_id=self.response.id,
                output_index=output_index,
                item=item.to_wire(),
            )
        )
        await self.session.send(server_event("conversation.item.done", item=item.to_wire()))

    async def say(self, text: str) -> None:
        is_audio = self.response.output_modalities == ["audio"]
        item = Item(id=new_id("item"), type="message", role="assistant", status="in_progress")
        output_index = await self._open_output_item(item)
        where = {"response_id": self.response.id, "item_id": item.id, "output_index": output_index}
        part_type = "audio" if is_audio else "text"
        empty_part = {"type": part_type, "transcript" if is_audio else "text": ""}
        await self.session.send(
            server_event("response.content_part.added", **where, content_index=0, part=empty_part)
        )
        words = text.split()
        if is_audio:
            said = await self._stream_audio(item, where, words, text)
        else:
            said = await self._stream_text(where, words)
        key = "transcript" if is_audio else "text"
        prefix = "response.output_audio" if is_audio else "response.output_text"
        if not self.response.cancel_reason:
            if is_audio:
                await self.session.send(server_event(f"{prefix}.done", **where, content_index=0))
                await self.session.send(
                    server_event(
                        f"{prefix}_transcript.done", **where, content_index=0, transcript=said
                    )
                )
            else:
                await self.session.send(
                    server_event(f"{prefix}.done", **where, content_index=0, text=said)
                )
            await self.session.send(
                server_event(
                    "response.content_part.done",
                    **where,
                    content_index=0,
                    part={"type": part_type, key: said},
                )
            )
        item.status = "incomplete" if self.response.cancel_reason else "completed"
        item.content = [{"type": f"output_{part_type}", key: said}]
        self.response.output_text += said
        await self._close_output_item(item, output_index)

    async def _stream_audio(
        self,
        item: Item,
        where: dict[str, Any],
        words: list[str],
        text: str,
    ) -> str:
        ulaw = await asyncio.to_thread(speech.synthesize, text)
        delay = self.session.first_audio_delay
        if delay and not self.response.output_audio_ms:
            # Like a slow real API: `response.created` at once, the first audio much later
            # (unless the response is cancelled meanwhile).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.response.cancelled.wait(), delay)
        audio_format = self.session.config.output_format
        encoded = encode_output(ulaw, audio_format)
        chunk_bytes = AUDIO_DELTA_MS * bytes_per_ms(audio_format)
        chunks = max(1, math.ceil(len(encoded) / chunk_bytes))
        words_said = 0
        for index in range(chunks):
            if self.response.cancel_reason:
                break
            # Transcript deltas keep pace with the audio, word by word.
            due = math.ceil((index + 1) / chunks * len(words))
            if due > words_said:
                delta = " ".join(words[words_said:due])
                await self.session.send(
                    server_event(
                        "response.output_audio_transcript.delta",
                        **where,
                        content_index=0,
                        delta=delta if words_said == 0 else f" {delta}",
                    )
                )
                words_said = due
            chunk = encoded[index * chunk_bytes : (index + 1) * chunk_bytes]
            await self.session.send(
                server_event(
                    "response.output_audio.delta",
                    **where,
                    content_index=0,
                    delta=base64.b64encode(chunk).decode(),
                )
            )
            chunk_ms = len(chunk) // bytes_per_ms(audio_format)
            item.audio_ms += chunk_ms
            self.response.output_audio_ms += chunk_ms
            await self._pause(chunk_ms)
        return " ".join(words[:words_said])

    async def _stream_text(self, where: dict[str, Any], words: list[str]) -> str:
        for index, word in enumerate(words):
            if self.response.cancel_reason:
                return " ".join(words[:index])
            await self.session.send(
                server_event(
                    "response.output_text.delta",
                    **where,
                    content_index=0,
                    delta=word if index == 0 else f" {word}",
                )
            )
            await asyncio.sleep(0)
        return " ".join(words)

    async def call_tool(self, action: CallTool) -> None:
        arguments = json.dumps(action.arguments)
        item = Item(
            id=new_id("item"),
            type="function_call",
            status="in_progress",
            call_id=new_id("call"),
            name=action.name,
            arguments="",
        )
        output_index = await self._open_output_item(item)
        where = {
            "response_id": self.response.id,
            "item_id": item.id,
            "output_index": output_index,
            "call_id": item.call_id,
        }
        await self.session.send(
            server_event("response.function_call_arguments.delta", **where, delta=arguments)
        )
        await self.session.send(
            server_event(
                "response.function_call_arguments.done",
                **where,
                name=action.name,
                arguments=arguments,
            )
        )
        item.arguments = arguments
        item.status = "completed"
        self.response.output_text += arguments
        await self._close_output_item(item, output_index)
