"""Webhooks the carrier sends, signed with `X-Twilio-Signature` exactly as Twilio signs them.

Twilio's signature is HMAC-SHA1, keyed with the account's auth token, over the full URL
followed by every POST parameter as name then value, in sorted order, base64-encoded. GET
webhooks carry the parameters in the query string and sign only the URL. The signature is
computed here independently of the `twilio` package so that the SDK's `RequestValidator`
accepting it is a real check.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from sandbox.carrier.calls import Call

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """The `X-Twilio-Signature` Twilio sends for a request to `url` with POST `params`."""
    payload = url + "".join(name + value for name, value in sorted((params or {}).items()))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    content_type: str
    text: str

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


class WebhookFailed(Exception):
    """The webhook could not be delivered at all (connection refused, timeout)."""


class WebhookClient:
    """Sends signed webhooks and writes each exchange into the call's log."""

    def __init__(self, session: aiohttp.ClientSession, auth_token: str):
        self.session = session
        self.auth_token = auth_token

    async def send(
        self, call: Call, what: str, url: str, params: Mapping[str, str], method: str = "POST"
    ) -> WebhookResponse:
        params = {name: str(value) for name, value in params.items()}
        is_get = method.upper() == "GET"
        target = url_with_query(url, params) if is_get else url
        signature = twilio_signature(self.auth_token, target, None if is_get else params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        call.note("http", "sent", what, method=method.upper(), url=target, params=params)
        try:
            async with self.session.request(
                method.upper(),
                target,
                data=None if is_get else params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS),
            ) as response:
                text = await response.text()
                result = WebhookResponse(response.status, response.content_type, text)
        except (aiohttp.ClientError, TimeoutError) as error:
            call.note("http", "received", what, url=target, error=repr(error))
            raise WebhookFailed(f"{what} to {url}: {error!r}") from error
        call.note("http", "received", what, url=target, status=result.status, body=text[:2000])
        return result


class CallbackQueue:
    """Delivers one call's callbacks in the order they happened, off the call's own path.

    Twilio posts callbacks asynchronously; a slow or failing webhook never delays the call.
    The sandbox keeps them in order per call so tests read a stable sequence.
    """

    def __init__(self, client: WebhookClient, call: Call):
        self.client = client
        self.call = call
        self._pending: asyncio.Queue[tuple[str, str, dict[str, str], str] | None] = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._deliver_in_order())

    def post(self, what: str, url: str, params: Mapping[str, str], method: str = "POST") -> None:
        self._pending.put_nowait((what, url, dict(params), method))

    async def drain(self) -> None:
        """Wait until everything posted so far has been delivered (or failed)."""
        self._pending.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker

    def cancel(self) -> None:
        self._worker.cancel()

    async def _deliver_in_order(self) -> None:
        while (item := await self._pending.get()) is not None:
            what, url, params, method = item
            try:
                await self.client.send(self.call, what, url, params, method)
            except WebhookFailed as error:
                logger.warning("callback not delivered: %s", error)
