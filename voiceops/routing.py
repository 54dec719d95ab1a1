"""WebSocket routes, gathered from each app. Each app's consumers authenticate themselves:
operator dashboards by session, carrier media streams by a signed per-call token."""

from calls.routing import websocket_urlpatterns as call_routes
from campaigns.routing import websocket_urlpatterns as campaign_routes

websocket_urlpatterns = [*call_routes, *campaign_routes]
