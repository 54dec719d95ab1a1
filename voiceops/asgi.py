"""ASGI entry point, served by uvicorn (`voiceops.web`): HTTP goes to Django, WebSockets to each app's routes."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from voiceops.request_size import RequestSizeLimit  # noqa: E402
from voiceops.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestSizeLimit(django_application),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

# Everything loaded so far lives as long as the process: keep it out of the collector's
# full passes, which otherwise pause every live call's audio for tens of milliseconds.
gc.collect()
gc.freeze()
# Even without it, a full pass over live calls' state took 30-50 ms of CPU at 150 calls,
# every 5-10 s with the default thresholds (700, 10, 10), and set the media path's p99.
# Considering one after 100 middle-generation passes instead of 10 makes it about ten times
# rarer; young passes (1-5 ms) are unchanged, and reference cycles, the only garbage full
# passes find, are freed within a minute or two instead of seconds.
gc.set_threshold(700, 10, 100)
