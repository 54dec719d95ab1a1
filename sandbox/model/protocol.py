"""Wire-level pieces every Realtime handler shares: ids, events and protocol errors."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

_sequence = itertools.count(1)


def new_id(prefix: str) -> str:
    """An id shaped like OpenAI's (`event_…`, `item_…`, `resp_…`), unique in this process."""
    return f"{prefix}_{next(_sequence):06d}{secrets.token_hex(6)}"


def server_event(event_type: str, **fields: Any) -> dict[str, Any]:
    """A server event with a fresh `event_id`."""
    return {"type": event_type, "event_id": new_id("event"), **fields}


class ProtocolError(Exception):
    """A client event the server refuses; becomes an `error` event (the session goes on)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.error_type = error_type

    def to_event(self, client_event_id: str | None = None) -> dict[str, Any]:
        return server_event(
            "error",
            error={
                "type": self.error_type,
                "code": self.code,
                "message": self.message,
                "param": self.param,
                "event_id": client_event_id,
            },
        )


class FatalProtocolError(ProtocolError):
    """A refusal after which the server closes the socket with `close_code`."""

    def __init__(self, code: str, message: str, *, close_code: int, **kwargs: Any) -> None:
        super().__init__(code, message, **kwargs)
        self.close_code = close_code


BETA_API_SHAPE_DISABLED = FatalProtocolError(
    "beta_api_shape_disabled",
    "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.",
    close_code=4000,
)


def missing_parameter(param: str) -> ProtocolError:
    return ProtocolError(
        "missing_required_parameter", f"Missing required parameter: '{param}'.", param=param
    )


def unknown_parameter(param: str) -> ProtocolError:
    return ProtocolError("unknown_parameter", f"Unknown parameter: '{param}'.", param=param)


def invalid_value(param: str, detail: str) -> ProtocolError:
    return ProtocolError("invalid_value", f"Invalid value for '{param}': {detail}", param=param)


def invalid_type(param: str, expected: str) -> ProtocolError:
    return ProtocolError(
        "invalid_type", f"Invalid type for '{param}': expected {expected}.", param=param
    )
