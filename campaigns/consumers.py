"""Live campaign progress for operators and finance, and the organisation's budget alerts,
over WebSockets."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from campaigns.models import Campaign
from campaigns.selectors import campaign_group_name, campaign_progress, organization_group_name
from tenancy.scoping import scoped, tenant_for_user

CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


@database_sync_to_async
def _visible_campaign(user, session, campaign_id: int) -> int | None:
    """The campaign's id if the user may watch it in their current organisation, else None
    (another organisation's campaign is answered as if it did not exist)."""
    tenant = tenant_for_user(user, session)
    if not tenant.has_perm("campaigns.view_campaign"):
        return None
    visible = scoped(Campaign.objects.filter(pk=campaign_id), tenant)
    return campaign_id if visible.exists() else None


@database_sync_to_async
def _load_progress(campaign_id: int) -> dict | None:
    try:
        return campaign_progress(campaign_id=campaign_id)
    except Campaign.DoesNotExist:
        return None


class CampaignProgressConsumer(AsyncJsonWebsocketConsumer):
    """Sends the campaign's progress on connect, then every update published to its group."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        campaign_id = int(self.scope["url_route"]["kwargs"]["campaign_id"])
        self.campaign_id = await _visible_campaign(user, self.scope.get("session"), campaign_id)
        if self.campaign_id is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        progress = await _load_progress(self.campaign_id)
        if progress is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = campaign_group_name(self.campaign_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "progress", **progress})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The stream is one-way; a client message asks for a fresh snapshot.
        progress = await _load_progress(self.campaign_id)
        if progress is not None:
            await self.send_json({"type": "progress", **progress})

    async def campaign_progress(self, event):
        await self.send_json({"type": "progress", **event["progress"]})


@database_sync_to_async
def _dashboard_organization(user, session) -> int | None:
    """The organisation whose budget alerts the user may watch (their current one), else
    None. Budget alerts are cost figures: finance and admins only."""
    tenant = tenant_for_user(user, session)
    if tenant.organization is None or not tenant.has_perm("campaigns.view_budgetalert"):
        return None
    return tenant.organization.pk


class OrganizationDashboardConsumer(AsyncJsonWebsocketConsumer):
    """Pushes the current organisation's budget alerts (80 % and 100 %) as they happen."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        organization_id = await _dashboard_organization(user, self.scope.get("session"))
        if organization_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = organization_group_name(organization_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def budget_alert(self, event):
        await self.send_json({"type": "budget_alert", **event["alert"]})
