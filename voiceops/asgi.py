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
