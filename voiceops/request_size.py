"""Refuse a request body larger than MAX_UPLOAD_BYTES with 413, before Django reads it.

Django reads the whole body into a temporary file before any middleware or view runs, so
the check sits in front of it, at the ASGI level: a declared `Content-Length` above the
limit is answered at once without reading the body; a body sent without one (chunked) is
counted as it arrives and refused as soon as it passes the limit. Either way no view runs
and no upload is stored. The reverse proxy enforces the same limit at the edge
(docs/operations.md), so an oversized body is not even buffered by daphne.
"""

import json

from django.conf import settings

API_PREFIX = "/api/"


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def too_large_message(size: int | None) -> str:
    limit = settings.MAX_UPLOAD_BYTES
    declared = f"The upload is {size_label(size)}," if size is not None else "The upload is"
    return (
        f"{declared} larger than the limit of {size_label(limit)} per request "
        "(MAX_UPLOAD_MB). Split the file into smaller files and upload each of them."
    )


def declared_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestSizeLimit:
    """ASGI middleware around the Django application, for HTTP requests."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        limit = settings.MAX_UPLOAD_BYTES
        length = declared_length(scope)
        if length is not None and length > limit:
            await self.refuse(scope, send, length)
            return
        received = 0
        refused = False

        async def counted_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django sees the client leave and drops the request without a response;
                    # the client gets this 413 instead.
                    refused = True
                    await self.refuse(scope, send, None)
                    return {"type": "http.disconnect"}
            return message

        await self.application(scope, counted_receive, send)

    @staticmethod
    async def refuse(scope, send, size: int | None) -> None:
        message = too_large_message(size)
        if scope.get("path", "").startswith(API_PREFIX):
            body = json.dumps({"errors": [{"field": "file", "message": message}]}).encode()
            content_type = b"application/json"
        else:
            body = (
                "<!doctype html><title>Upload too large</title><h1>Upload too large</h1>"
                f"<p>{message}</p>"
            ).encode()
            content_type = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
