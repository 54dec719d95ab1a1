"""Conversation items of a Realtime session: what was said, called and returned.

Items keep how much audio they hold (in ms) rather than the audio itself on the wire
shape, because OpenAI's item events never carry audio bytes; truncation and usage
only need the length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.model.protocol import (
    ProtocolError,
    invalid_type,
    invalid_value,
    missing_parameter,
    new_id,
)
from sandbox.model.usage import (
    TokenCount,
    input_audio_tokens,
    output_audio_tokens,
    text_tokens,
)


@dataclass
class Item:
    id: str
    type: str  # message, function_call, function_call_output
    role: str | None = None
    status: str = "completed"
    content: list[dict[str, Any]] = field(default_factory=list)
    audio_ms: int = 0
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": self.id,
            "object": "realtime.item",
            "type": self.type,
            "status": self.status,
        }
        if self.type == "message":
            wire["role"] = self.role
            wire["content"] = [dict(part) for part in self.content]
        elif self.type == "function_call":
            wire.update(call_id=self.call_id, name=self.name, arguments=self.arguments or "")
        else:
            wire.update(call_id=self.call_id, output=self.output or "")
        return wire

    @property
    def text(self) -> str:
        if self.type == "function_call":
            return f"{self.name}({self.arguments or ''})"
        if self.type == "function_call_output":
            return self.output or ""
        return " ".join(
            part.get("text") or part.get("transcript") or "" for part in self.content
        ).strip()

    def tokens(self) -> TokenCount:
        """What re-reading this item costs a later response."""
        if self.audio_ms:
            audio = (
                output_audio_tokens(self.audio_ms)
                if self.role == "assistant"
                else input_audio_tokens(self.audio_ms)
            )
            return TokenCount(audio=audio)
        return TokenCount(text=text_tokens(self.text))


def user_audio_item(item_id: str, audio_ms: int) -> Item:
    return Item(
        id=item_id,
        type="message",
        role="user",
        content=[{"type": "input_audio", "transcript": None}],
        audio_ms=audio_ms,
    )


def item_from_client(item: Any) -> Item:
    """A conversation item a client creates, validated as OpenAI does."""
    if not isinstance(item, dict):
        raise invalid_type("item", "an object")
    kind = item.get("type")
    item_id = item.get("id") or new_id("item")
    if kind is None:
        raise missing_parameter("item.type")
    if kind == "function_call_output":
        for key in ("call_id", "output"):
            if not isinstance(item.get(key), str):
                raise missing_parameter(f"item.{key}")
        return Item(id=item_id, type=kind, call_id=item["call_id"], output=item["output"])
    if kind == "function_call":
        for key in ("name", "arguments"):
            if not isinstance(item.get(key), str):
                raise missing_parameter(f"item.{key}")
        return Item(
            id=item_id,
            type=kind,
            call_id=item.get("call_id") or new_id("call"),
            name=item["name"],
            arguments=item["arguments"],
        )
    if kind != "message":
        raise invalid_value(
            "item.type", f"{kind!r}. Expected message, function_call or function_call_output."
        )
    role = item.get("role")
    if role not in ("user", "assistant", "system"):
        raise invalid_value("item.role", "expected user, assistant or system.")
    content = item.get("content")
    if not isinstance(content, list) or not content:
        raise missing_parameter("item.content")
    allowed = {
        "user": {"input_text", "input_audio", "input_image"},
        "assistant": {"output_text", "output_audio"},
        "system": {"input_text"},
    }[role]
    for index, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in allowed:
            raise ProtocolError(
                "invalid_value",
                f"Invalid content type for a {role} message: expected one of "
                f"{', '.join(sorted(allowed))}.",
                param=f"item.content[{index}].type",
            )
    parts = [{key: value for key, value in part.items() if key != "audio"} for part in content]
    return Item(id=item_id, type="message", role=role, content=parts)
