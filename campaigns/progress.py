"""Pushing a campaign's live progress to the dashboards watching it."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from campaigns.selectors import campaign_group_name, campaign_progress

log = logging.getLogger(__name__)


def campaign_progress_publish(*, campaign_id: int) -> None:
    """Best effort: a dashboard that misses an update gets the next one, or reconnects."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            campaign_group_name(campaign_id),
            {"type": "campaign.progress", "progress": campaign_progress(campaign_id=campaign_id)},
        )
    except Exception:  # the channel layer is not the system of record
        log.warning("Could not publish progress of campaign %s", campaign_id, exc_info=True)
