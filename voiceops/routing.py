"""WebSocket routes, gathered from each app. Each app's consumers authenticate themselves:
operator dashboards by session, carrier media streams by a signed per-call token."""

from campaigns.routing import websocket_urlpatterns as campaign_routes

websocket_urlpatterns = [*campaign_routes]
