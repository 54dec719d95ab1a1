"""A stand-in for OpenAI: the Realtime (GA) WebSocket protocol and a text endpoint."""

from sandbox.model.server import ModelServer

__all__ = ["ModelServer"]
