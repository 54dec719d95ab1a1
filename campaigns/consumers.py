"""Live campaign progress for operators and finance, and the organisation's budget alerts,
over WebSockets."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from campaigns.models import Campaign
from campaigns.selectors import (
    campaign_group_name,
    campaign_progress,
    campaign_spend,
    organization_group_name,
)
from tenancy.scoping import scoped, tenant_for_user

CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


@database_sync_to_async
def _visible_campaign(user, session, campaign_id: int) -> tuple[int | None, bool]:
    """The campaign's id if the user may watch it in their current organisation, else None
    (another organisation's campaign is answered as if it did not exist), and whether the
    user reads costs (then each update carries the campaign's spend)."""
    tenant = tenant_for_user(user, session)
    if not tenant.has_perm("campaigns.view_campaign"):
        return None, False
    visible = scoped(Campaign.objects.filter(pk=campaign_id), tenant)
    return (campaign_id if visible.exists() else None), tenant.reads_costs


@database_sync_to_async
def _load_spend(campaign_id: int) -> dict:
    spend = campaign_spend(campaign_id=campaign_id)
    budget, remaining = spend["budget"], spend["remaining"]
    currency = spend["currency"]
    return {
        "spent": f"{spend['spent']:.2f} {currency}",
        "budget": None if budget is None else f"{budget:.2f} {currency}",
        "remaining": None if remaining is None else f"{remaining:.2f} {currency}",
        "percent": None if not budget else min(100, int(100 * spend["spent"] / budget)),
    }


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
        self.campaign_id, self.reads_costs = await _visible_campaign(
            user, self.scope.get("session"), campaign_id
        )
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
        await self.send_progress(progress)

    async def send_progress(self, progress: dict) -> None:
        message = {"type": "progress", **progress}
        if self.reads_costs:
            message["spend"] = await _load_spend(self.campaign_id)
        await self.send_json(message)

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The stream is one-way; a client message asks for a fresh snapshot.
        progress = await _load_progress(self.campaign_id)
        if progress is not None:
            await self.send_progress(progress)

    async def campaign_progress(self, event):
        await self.send_progress(event["progress"])


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
