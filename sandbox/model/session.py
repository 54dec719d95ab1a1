"""The Realtime session configuration and the validation of `session.update`, as OpenAI does it.

Only the GA shape is accepted: `session.type` is required, audio settings live under
`session.audio`, and the retired beta fields (`input_audio_format`, `modalities`, …) are
refused with `beta_api_shape_disabled`, after which the socket closes with code 4000.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sandbox.model.protocol import (
    BETA_API_SHAPE_DISABLED,
    invalid_type,
    invalid_value,
    missing_parameter,
    unknown_parameter,
)

DEFAULT_MODEL = "gpt-realtime"
PCM_RATE = 24000
AUDIO_FORMATS = ("audio/pcm", "audio/pcmu", "audio/pcma")
VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)

# Fields of the retired flat beta session; their presence means a beta-era client.
BETA_SESSION_FIELDS = frozenset(
    {
        "modalities",
        "voice",
        "input_audio_format",
        "output_audio_format",
        "input_audio_transcription",
        "input_audio_noise_reduction",
        "turn_detection",
        "temperature",
        "max_response_output_tokens",
        "speed",
    }
)

SESSION_FIELDS = frozenset(
    {
        "type",
        "model",
        "instructions",
        "output_modalities",
        "audio",
        "tools",
        "tool_choice",
        "max_output_tokens",
        "truncation",
        "tracing",
        "include",
        "prompt",
        "parallel_tool_calls",
        "reasoning",
    }
)

SERVER_VAD_DEFAULTS = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "create_response": True,
    "interrupt_response": True,
    "idle_timeout_ms": None,
}

# semantic_vad has no silence setting; its eagerness stands in for one.
_SEMANTIC_SILENCE_MS = {"low": 1200, "medium": 700, "high": 400, "auto": 700}


def _default_audio() -> dict[str, Any]:
    return {
        "input": {
            "format": {"type": "audio/pcm", "rate": PCM_RATE},
            "noise_reduction": None,
            "transcription": None,
            "turn_detection": dict(SERVER_VAD_DEFAULTS),
        },
        "output": {
            "format": {"type": "audio/pcm", "rate": PCM_RATE},
            "voice": "marin",
            "speed": 1.0,
        },
    }


@dataclass
class SessionConfig:
    """The effective configuration of one Realtime session."""

    id: str
    expires_at: int
    model: str = DEFAULT_MODEL
    instructions: str = ""
    output_modalities: list[str] = field(default_factory=lambda: ["audio"])
    audio: dict[str, Any] = field(default_factory=_default_audio)
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = "auto"
    max_output_tokens: int | str = "inf"
    truncation: Any = "auto"
    tracing: Any = None
    include: list[str] | None = None
    prompt: Any = None

    @property
    def input_format(self) -> dict[str, Any]:
        return self.audio["input"]["format"]

    @property
    def output_format(self) -> dict[str, Any]:
        return self.audio["output"]["format"]

    @property
    def turn_detection(self) -> dict[str, Any] | None:
        return self.audio["input"]["turn_detection"]

    @property
    def is_transcribing(self) -> bool:
        return self.audio["input"]["transcription"] is not None

    @property
    def tool_names(self) -> set[str]:
        return {tool["name"] for tool in self.tools if tool.get("type") == "function"}

    def vad_silence_duration_ms(self) -> int:
        detection = self.turn_detection or {}
        if detection.get("type") == "semantic_vad":
            return _SEMANTIC_SILENCE_MS[detection.get("eagerness") or "auto"]
        return detection.get("silence_duration_ms", 500)

    def to_wire(self) -> dict[str, Any]:
        """The session object of `session.created` / `session.updated`."""
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": self.id,
            "expires_at": self.expires_at,
            "model": self.model,
            "instructions": self.instructions,
            "output_modalities": list(self.output_modalities),
            "audio": copy.deepcopy(self.audio),
            "tools": copy.deepcopy(self.tools),
            "tool_choice": self.tool_choice,
            "max_output_tokens": self.max_output_tokens,
            "truncation": self.truncation,
            "tracing": self.tracing,
            "include": self.include,
            "prompt": self.prompt,
        }

    def apply_update(self, session: Any) -> None:
        """Validate a `session.update` payload and apply it; refuse it whole on any error."""
        updated = copy.deepcopy(self)
        _apply(updated, session)
        self.__dict__.update(updated.__dict__)


def _apply(config: SessionConfig, session: Any) -> None:
    if not isinstance(session, dict):
        raise invalid_type("session", "an object")
    if BETA_SESSION_FIELDS & session.keys():
        raise BETA_API_SHAPE_DISABLED
    if "type" not in session:
        raise missing_parameter("session.type")
    if session["type"] != "realtime":
        raise invalid_value(
            "session.type",
            f"{session['type']!r}. This server supports only 'realtime' sessions.",
        )
    for key in session:
        if key not in SESSION_FIELDS:
            raise unknown_parameter(f"session.{key}")
    if "model" in session:
        config.model = _string(session["model"], "session.model")
    if "instructions" in session:
        config.instructions = _string(session["instructions"], "session.instructions")
    if "output_modalities" in session:
        config.output_modalities = _modalities(session["output_modalities"])
    if "audio" in session:
        _apply_audio(config.audio, session["audio"])
    if "tools" in session:
        config.tools = _tools(session["tools"])
    if "tool_choice" in session:
        config.tool_choice = session["tool_choice"]
    if "max_output_tokens" in session:
        config.max_output_tokens = _max_output_tokens(session["max_output_tokens"])
    for key in ("truncation", "tracing", "include", "prompt"):
        if key in session:
            setattr(config, key, session[key])


def _string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise invalid_type(param, "a string")
    return value


def _modalities(value: Any) -> list[str]:
    if value not in (["audio"], ["text"]):
        raise invalid_value(
            "session.output_modalities", "expected ['audio'] or ['text'] (not both)."
        )
    return list(value)


def _apply_audio(audio: dict[str, Any], update: Any) -> None:
    if not isinstance(update, dict):
        raise invalid_type("session.audio", "an object")
    for key in update:
        if key not in ("input", "output"):
            raise unknown_parameter(f"session.audio.{key}")
    if "input" in update:
        _apply_audio_input(audio["input"], update["input"])
    if "output" in update:
        _apply_audio_output(audio["output"], update["output"])


def _apply_audio_input(current: dict[str, Any], update: Any) -> None:
    prefix = "session.audio.input"
    if not isinstance(update, dict):
        raise invalid_type(prefix, "an object")
    for key in update:
        if key not in ("format", "noise_reduction", "transcription", "turn_detection"):
            raise unknown_parameter(f"{prefix}.{key}")
    if "format" in update:
        current["format"] = audio_format(update["format"], f"{prefix}.format")
    if "noise_reduction" in update:
        current["noise_reduction"] = update["noise_reduction"]
    if "transcription" in update:
        transcription = update["transcription"]
        if transcription is not None and not isinstance(transcription, dict):
            raise invalid_type(f"{prefix}.transcription", "an object or null")
        current["transcription"] = transcription
    if "turn_detection" in update:
        current["turn_detection"] = _turn_detection(update["turn_detection"])


def _apply_audio_output(current: dict[str, Any], update: Any) -> None:
    prefix = "session.audio.output"
    if not isinstance(update, dict):
        raise invalid_type(prefix, "an object")
    for key in update:
        if key not in ("format", "voice", "speed"):
            raise unknown_parameter(f"{prefix}.{key}")
    if "format" in update:
        current["format"] = audio_format(update["format"], f"{prefix}.format")
    if "voice" in update:
        voice = update["voice"]
        if not (voice in VOICES or (isinstance(voice, dict) and "id" in voice)):
            raise invalid_value(f"{prefix}.voice", f"{voice!r} is not a supported voice.")
        current["voice"] = voice
    if "speed" in update:
        speed = update["speed"]
        if not isinstance(speed, int | float) or not 0.25 <= speed <= 1.5:
            raise invalid_value(f"{prefix}.speed", "expected a number from 0.25 to 1.5.")
        current["speed"] = speed


def audio_format(value: Any, param: str) -> dict[str, Any]:
    """A validated audio format object; G.711 takes no rate, PCM only 24 kHz."""
    if not isinstance(value, dict):
        raise invalid_type(param, "an object")
    if "type" not in value:
        raise missing_parameter(f"{param}.type")
    kind = value["type"]
    if kind not in AUDIO_FORMATS:
        raise invalid_value(f"{param}.type", f"{kind!r}. Supported: {', '.join(AUDIO_FORMATS)}.")
    for key in value:
        if key not in ("type", "rate") or (key == "rate" and kind != "audio/pcm"):
            raise unknown_parameter(f"{param}.{key}")
    if kind == "audio/pcm":
        rate = value.get("rate", PCM_RATE)
        if rate != PCM_RATE:
            raise invalid_value(f"{param}.rate", f"{rate!r}. Only 24000 is supported.")
        return {"type": kind, "rate": PCM_RATE}
    return {"type": kind}


def _turn_detection(value: Any) -> dict[str, Any] | None:
    param = "session.audio.input.turn_detection"
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_type(param, "an object or null")
    kind = value.get("type")
    if kind == "server_vad":
        allowed = set(SERVER_VAD_DEFAULTS)
        result = dict(SERVER_VAD_DEFAULTS)
    elif kind == "semantic_vad":
        allowed = {"type", "eagerness", "create_response", "interrupt_response"}
        result = {"type": kind, "eagerness": "auto", "create_response": True}
        result["interrupt_response"] = True
    elif kind is None:
        raise missing_parameter(f"{param}.type")
    else:
        raise invalid_value(f"{param}.type", f"{kind!r}. Expected 'server_vad' or 'semantic_vad'.")
    for key, setting in value.items():
        if key not in allowed:
            raise unknown_parameter(f"{param}.{key}")
        result[key] = setting
    if kind == "server_vad":
        if not isinstance(result["threshold"], int | float) or not 0 <= result["threshold"] <= 1:
            raise invalid_value(f"{param}.threshold", "expected a number from 0 to 1.")
        for key in ("prefix_padding_ms", "silence_duration_ms"):
            if not isinstance(result[key], int) or result[key] < 0:
                raise invalid_value(f"{param}.{key}", "expected a non-negative integer.")
        idle = result["idle_timeout_ms"]
        if idle is not None and (not isinstance(idle, int) or not 5000 <= idle <= 30000):
            raise invalid_value(f"{param}.idle_timeout_ms", "expected 5000 to 30000.")
    elif result["eagerness"] not in _SEMANTIC_SILENCE_MS:
        raise invalid_value(f"{param}.eagerness", "expected low, medium, high or auto.")
    return result


def _tools(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise invalid_type("session.tools", "an array")
    for index, tool in enumerate(value):
        param = f"session.tools[{index}]"
        if not isinstance(tool, dict):
            raise invalid_type(param, "an object")
        if tool.get("type") not in ("function", "mcp"):
            raise invalid_value(f"{param}.type", "expected 'function' or 'mcp'.")
        if tool["type"] == "function" and not isinstance(tool.get("name"), str):
            raise missing_parameter(f"{param}.name")
    return copy.deepcopy(value)


def _max_output_tokens(value: Any) -> int | str:
    if value == "inf" or (isinstance(value, int) and 1 <= value <= 4096):
        return value
    raise invalid_value("session.max_output_tokens", "expected 1 to 4096 or 'inf'.")
