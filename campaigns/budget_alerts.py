"""What happens when a budget reaches 80 % or 100 %: the stored alert, the pause, the email
to finance and admin members, and the live push to the organisation's dashboards.

The alert row is written (with the pause, at 100 %) before anyone is told. Telling them
happens after commit; an alert whose notification did not go out (a crash, a mail server
down) is sent by the `notify_budget_alerts` beat task, so none is lost and none is sent
twice (the row is locked while it is sent and stamped `notified_at`).
"""

import logging
from datetime import datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from calls.models import WebhookEvent
from calls.webhooks_out import webhook_event_emit
from campaigns import lifecycle
from campaigns.budgets import (
    Usage,
    budget_alert_insert,
    budget_blocking,
    campaigns_paid_by,
)
from campaigns.models import BudgetAlert, Campaign, PauseReason
from campaigns.selectors import organization_group_name
from tenancy.models import Membership
from tenancy.roles import Role

log = logging.getLogger(__name__)

NOTIFIED_ROLES = (Role.FINANCE, Role.ADMIN)


def budget_alert_raise(*, usage: Usage, threshold: int, at: datetime) -> BudgetAlert | None:
    """Record the alert and, at 100 % of a budget whose period is still running, pause every
    campaign it pays for (calls in progress finish). Returns None if the alert was already
    recorded this period: then nothing else happens."""
    budget = usage.budget
    with transaction.atomic():
        alert = budget_alert_insert(usage=usage, threshold=threshold, at=at)
        if alert is None:
            return None
        is_current = budget.resets_at is None or at < budget.resets_at
        if threshold == BudgetAlert.Threshold.EXHAUSTED and is_current:
            for campaign_id in campaigns_paid_by(budget).values_list("pk", flat=True):
                try:
                    lifecycle.campaign_pause(
                        campaign_id=campaign_id, at=at, reason=PauseReason.BUDGET_EXHAUSTED
                    )
                except lifecycle.CampaignStateError:
                    continue  # paused or ended meanwhile
        transaction.on_commit(
            lambda: budget_alert_notify(alert_id=alert.pk, at=timezone.now()), robust=True
        )
    log.info("Budget alert: %s", alert)
    return alert


def alert_payload(alert: BudgetAlert) -> dict:
    """The alert as dashboards (and the `budget.threshold` webhook event) receive it."""
    return {
        "id": alert.pk,
        "organization_id": alert.organization_id,
        "scope": alert.scope,
        "scope_label": alert.get_scope_display(),
        "campaign_id": alert.campaign_id,
        "campaign": alert.campaign.name if alert.campaign_id else None,
        "period": alert.period,
        "threshold": alert.threshold,
        "budget": str(alert.budget),
        "spent": str(alert.spent),
        "reserved": str(alert.reserved),
        "currency": alert.currency,
        "created_at": alert.created_at.isoformat(),
    }


def alert_recipients(organization_id: int) -> list[str]:
    return sorted(
        set(
            Membership.objects.filter(
                organization_id=organization_id,
                role__in=NOTIFIED_ROLES,
                user__is_active=True,
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def alert_subject(alert: BudgetAlert) -> str:
    what = alert.get_scope_display()
    if alert.campaign_id:
        what += f" of “{alert.campaign.name}”"
    if alert.period:
        what += f" for {alert.period}"
    verb = "is used up" if alert.threshold == BudgetAlert.Threshold.EXHAUSTED else "is 80 % spent"
    return f"{alert.organization.name}: {what} {verb}"


def alert_body(alert: BudgetAlert) -> str:
    lines = [
        f"{alert_subject(alert)}.",
        "",
        f"Budget: {alert.budget:.2f} {alert.currency}",
        f"Spent: {alert.spent:.2f} {alert.currency}",
        f"Held by calls in progress: {alert.reserved:.2f} {alert.currency}",
        "",
    ]
    if alert.threshold == BudgetAlert.Threshold.EXHAUSTED and alert.spent < alert.budget:
        lines[-1:-1] = [
            f"Left: {alert.budget - alert.spent:.2f} {alert.currency}, less than another call "
            "is expected to cost."
        ]
    if alert.threshold == BudgetAlert.Threshold.EXHAUSTED:
        affected = (
            "The campaign is paused"
            if alert.campaign_id
            else "Every running campaign of the organisation is paused"
        )
        lines.append(
            f"{affected}; calls in progress finish. "
            + (
                "It resumes by itself when the period renews."
                if alert.period
                else "Raise the budget and resume the campaign to go on calling."
            )
        )
    else:
        lines.append("Calls go on; at 100 % new calls stop.")
    return "\n".join(lines)


def budget_alert_notify(*, alert_id: int, at: datetime) -> bool:
    """Email the organisation's finance and admin members and push the alert to its
    dashboards. Returns False if it was already notified. The row stays locked while the
    email goes out, so concurrent runs send it once; a failed send leaves it pending."""
    with transaction.atomic():
        alert = (
            BudgetAlert.objects.select_for_update(of=("self",))
            .select_related("organization", "campaign")
            .filter(pk=alert_id, notified_at__isnull=True)
            .first()
        )
        if alert is None:
            return False
        recipients = alert_recipients(alert.organization_id)
        if recipients:
            send_mail(alert_subject(alert), alert_body(alert), None, recipients)
        # In the same transaction as notified_at: the event is written once, with the alert.
        webhook_event_emit(
            organization_id=alert.organization_id,
            event=WebhookEvent.BUDGET_THRESHOLD,
            payload=alert_payload(alert),
        )
        alert.notified_at = at
        alert.save(update_fields=["notified_at"])
    budget_alert_push(alert)
    return True


def budget_alert_push(alert: BudgetAlert) -> None:
    """Best effort: a dashboard that misses the push sees the alert in the admin."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            organization_group_name(alert.organization_id),
            {"type": "budget.alert", "alert": alert_payload(alert)},
        )
    except Exception:  # the channel layer is not the system of record
        log.warning("Could not push budget alert %s", alert.pk, exc_info=True)


def budget_alerts_notify_pending(*, at: datetime) -> int:
    """Send the notifications that did not go out after their alert was recorded."""
    sent = 0
    for alert_id in BudgetAlert.objects.filter(notified_at__isnull=True).values_list(
        "pk", flat=True
    ):
        try:
            sent += budget_alert_notify(alert_id=alert_id, at=at)
        except Exception:  # one failing mail server must not stop the others
            log.warning("Could not notify budget alert %s", alert_id, exc_info=True)
    return sent


def budget_paused_campaigns_resume(*, at: datetime) -> list[int]:
    """Resume campaigns paused for their budget once no budget blocks them any more: the
    organisation's day or month has turned, or the budget was raised."""
    resumed = []
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.PAUSED, paused_reason=PauseReason.BUDGET_EXHAUSTED
    ).select_related("organization", "agent"):
        is_blocked, _ = budget_blocking(campaign=campaign, at=at)
        if is_blocked:
            continue
        try:
            lifecycle.campaign_resume(campaign_id=campaign.pk, at=at)
        except lifecycle.CampaignStateError:
            continue
        resumed.append(campaign.pk)
    return resumed
