from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import re_path

from campaigns.consumers import CampaignProgressConsumer, OrganizationDashboardConsumer

websocket_urlpatterns = [
    re_path(
        r"^ws/campaigns/(?P<campaign_id>\d+)/$",
        AllowedHostsOriginValidator(AuthMiddlewareStack(CampaignProgressConsumer.as_asgi())),
    ),
    re_path(
        r"^ws/organization/$",
        AllowedHostsOriginValidator(AuthMiddlewareStack(OrganizationDashboardConsumer.as_asgi())),
    ),
]
