"""The carrier's media-stream socket. No origin check and no session: Twilio sends neither;
the consumer admits a stream by Twilio's signature on the upgrade and the single-use token
in its `start` message."""

from django.urls import re_path

from calls.consumers import MediaStreamConsumer

websocket_urlpatterns = [
    re_path(r"^ws/media/$", MediaStreamConsumer.as_asgi()),
]
