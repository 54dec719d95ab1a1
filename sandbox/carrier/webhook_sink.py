"""A loopback web app standing in for an application's webhook endpoints, for tests.

It records every request it receives (URL, headers, form parameters) and answers each path
with a configured response (TwiML for answer URLs, empty 204 otherwise), so a test can
check what the carrier sent and that `twilio.request_validator.RequestValidator` accepts it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from aiohttp import web

from sandbox.threaded import ThreadedServer


@dataclass(frozen=True)
class ReceivedWebhook:
    method: str
    url: str  # the full URL as requested, which is what Twilio signs
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    param_lists: dict[str, list[str]]

    @property
    def signature(self) -> str:
        return self.headers.get("X-Twilio-Signature", "")


@dataclass(frozen=True)
class CannedResponse:
    body: str
    status: int = 200
    content_type: str = "text/xml"


class WebhookSink(ThreadedServer):
    thread_name = "sandbox-webhook-sink"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[ReceivedWebhook] = []
        self._responses: dict[str, CannedResponse] = {}
        self._arrived = threading.Condition()

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        return app

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def respond(self, path: str, body: str, status: int = 200, content_type: str = "text/xml"):
        """Answer requests to `path` with `body` from now on."""
        self._responses["/" + path.lstrip("/")] = CannedResponse(body, status, content_type)

    def requests_to(self, path: str) -> list[ReceivedWebhook]:
        path = "/" + path.lstrip("/")
        return [request for request in list(self.received) if request.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 30) -> list[ReceivedWebhook]:
        """Block until `count` requests to `path` have arrived; returns them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(found := self.requests_to(path)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(found)} of {count} requests to {path} arrived")
                self._arrived.wait(remaining)
        return found

    async def _handle(self, request: web.Request) -> web.Response:
        form = await request.post() if request.method == "POST" else request.query
        param_lists: dict[str, list[str]] = {}
        for key, value in form.items():
            param_lists.setdefault(key, []).append(str(value))
        received = ReceivedWebhook(
            method=request.method,
            url=str(request.url),
            path=request.path,
            headers=dict(request.headers),
            params={key: values[-1] for key, values in param_lists.items()},
            param_lists=param_lists,
        )
        with self._arrived:
            self.received.append(received)
            self._arrived.notify_all()
        canned = self._responses.get(request.path)
        if canned is None:
            return web.Response(status=204)
        return web.Response(
            text=canned.body, status=canned.status, content_type=canned.content_type
        )
