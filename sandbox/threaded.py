"""Run an aiohttp application on its own event loop in a background thread.

Sandbox servers are used from sync Django tests, from async tests (whose own loop must
stay free) and from the command line, so each one owns a loop in a daemon thread.
Subclass `ThreadedServer` and build the application in `make_app`; it is called on the
server's loop, so asyncio objects created there belong to the right loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")

# How long start and stop may take before the server is declared stuck.
_LIFECYCLE_TIMEOUT_SECONDS = 15
# Handlers still running when the server stops are cancelled after this grace period.
_SHUTDOWN_GRACE_SECONDS = 1.0


class ServerNotRunning(RuntimeError):
    """The server was used before `start()` or after `stop()`."""


class ThreadedServer:
    """An aiohttp server on a private loop: `start()` returns its base URL, `stop()` ends it."""

    thread_name = "sandbox-server"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.host: str | None = None
        self.port: int | None = None

    def make_app(self) -> web.Application:
        """The application to serve; override. Runs on the server's loop."""
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise ServerNotRunning("the server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise ServerNotRunning("the server is not running")
        return self._loop

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on `host:port` (0 picks a free port) and return the base URL."""
        if self._thread is not None:
            return self.base_url
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run_loop() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run_loop, name=self.thread_name, daemon=True)
        self._thread.start()
        ready.wait()
        try:
            self.port = self.call(self._serve(host, port), timeout=_LIFECYCLE_TIMEOUT_SECONDS)
        except BaseException:
            self.stop()
            raise
        self.host = host
        return self.base_url

    async def _serve(self, host: str, port: int) -> int:
        runner = web.AppRunner(
            self.make_app(), handle_signals=False, shutdown_timeout=_SHUTDOWN_GRACE_SECONDS
        )
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, host, port)
        await site.start()
        return runner.addresses[0][1]

    def stop(self) -> None:
        """Close every connection, stop the loop and join the thread. Safe to call twice."""
        loop, thread, runner = self._loop, self._thread, self._runner
        if loop is None or thread is None:
            return
        try:
            if runner is not None:
                asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(
                    _LIFECYCLE_TIMEOUT_SECONDS
                )
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_LIFECYCLE_TIMEOUT_SECONDS)
            if not thread.is_alive():
                loop.close()
            self._loop = self._thread = self._runner = None
            self.port = None

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coroutine` on the server's loop from another thread and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def __enter__(self) -> Self:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
