"""The URLs we hand to Twilio, built on PUBLIC_BASE_URL (the origin Twilio reaches us at)."""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.urls import reverse


def public_url(name: str, **kwargs) -> str:
    return settings.PUBLIC_BASE_URL + reverse(name, kwargs=kwargs or None)


def media_stream_url() -> str:
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws/media/", "", ""))
