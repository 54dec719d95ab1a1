"""Budgets that hold: per campaign, and per organisation per day and per month.

A budget counts what its calls have cost (`spent`: priced totals) and what calls in flight
may still cost (`reserved`: the estimate each call holds from its dial until it is priced).
A dial reserves its estimate inside the transaction that claims the call, under the
organisation's row lock, so racing dials see each other's reservations: a dial whose
spent + reserved + estimate would exceed any budget is deferred instead. Overshoot is then
bounded by how far calls in flight exceed their estimates. The tick books no more calls
than the budgets can still reserve (`budget_affordable_calls`), so deferrals are rare.

Days and months are the organisation's, in its time zone; a call counts in the period of
its `created_at`. The campaign budget covers the campaign's whole life.

After each call is priced, `budgets_enforce` records an alert at 80 % and at 100 % of each
budget, once per period (a unique row), pauses what the exhausted budget pays for, and
notifies the organisation's finance and admin members. A budget is exhausted when its
spent reaches it, or when nothing is in flight and it cannot pay for one more call.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from calls.models import Call, CallStatus
from calls.outcomes import target_after_refusal
from calls.states import call_transition
from campaigns.compliance import Reason
from campaigns.models import BudgetAlert, Campaign, Organization

log = logging.getLogger(__name__)

Scope = BudgetAlert.Scope
OVER_BUDGET = str(Reason.BUDGET)  # the compliance engine's reason, whichever path defers
# Calls that may still cost money, while unpriced: any call not yet ended, and every call
# that reached the carrier. A call refused before the carrier had it costs nothing.
IN_FLIGHT_STATUSES = (
    CallStatus.QUEUED,
    CallStatus.DIALING,
    CallStatus.INITIATED,
    CallStatus.RINGING,
    CallStatus.IN_PROGRESS,
)
HOLDING = Q(priced_at__isnull=True) & (
    Q(carrier_sid__isnull=False) | Q(status__in=IN_FLIGHT_STATUSES)
)
# The campaign's own average replaces the agent's cap as the estimate once this many of its
# calls have reached the carrier and been priced.
AVERAGE_AFTER_CALLS = 5
# A spent campaign budget never renews by itself; its deferred targets are looked at again
# after this long (or at once when the campaign is resumed).
RECHECK_SPENT_CAMPAIGN = timedelta(hours=1)
ZERO = Decimal(0)
MONEY = DecimalField(max_digits=14, decimal_places=6)


@dataclass(frozen=True)
class Budget:
    """One budget as it applies at an instant: its limit, the calls it counts and its
    period (`starts_at`/`resets_at` are None for the campaign's lifetime)."""

    organization_id: int
    scope: str
    limit: Decimal
    period: str
    starts_at: datetime | None
    resets_at: datetime | None
    campaign_id: int | None = None

    def calls(self) -> QuerySet:
        if self.scope == Scope.CAMPAIGN:
            return Call.objects.filter(
                organization_id=self.organization_id, target__campaign_id=self.campaign_id
            )
        return Call.objects.filter(
            organization_id=self.organization_id,
            created_at__gte=self.starts_at,
            created_at__lt=self.resets_at,
        )

    @property
    def label(self) -> str:
        return Scope(self.scope).label


@dataclass(frozen=True)
class Usage:
    budget: Budget
    spent: Decimal
    reserved: Decimal

    @property
    def percent(self) -> Decimal:
        if not self.budget.limit:
            return Decimal(100)
        return (100 * self.spent / self.budget.limit).quantize(Decimal("0.1"))

    def cannot_afford(self, estimate: Decimal) -> bool:
        committed = self.spent + self.reserved
        return committed >= self.budget.limit or committed + estimate > self.budget.limit


def period_bounds(*, scope: str, time_zone: str, at: datetime) -> tuple[datetime, datetime, str]:
    """The organisation's day or month containing `at`: start, end (exclusive), label."""
    zone = ZoneInfo(time_zone)
    today = at.astimezone(zone).date()
    if scope == Scope.DAILY:
        first, after, label = today, today + timedelta(days=1), today.isoformat()
    elif scope == Scope.MONTHLY:
        first = today.replace(day=1)
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        label = f"{first:%Y-%m}"
    else:
        raise ValueError(f"{scope!r} budgets have no calendar period.")
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(after, time(0), tzinfo=zone),
        label,
    )


def budgets_applying(
    *, organization: Organization, campaign: Campaign | None, at: datetime
) -> list[Budget]:
    """Every budget that a call of `campaign` (None: an inbound call) made at `at` counts
    against. Budgets left empty do not apply."""
    budgets = []
    if campaign is not None and campaign.budget is not None:
        budgets.append(
            Budget(
                organization_id=organization.pk,
                scope=Scope.CAMPAIGN,
                limit=campaign.budget,
                period="",
                starts_at=None,
                resets_at=None,
                campaign_id=campaign.pk,
            )
        )
    for scope, limit in (
        (Scope.DAILY, organization.daily_budget),
        (Scope.MONTHLY, organization.monthly_budget),
    ):
        if limit is None:
            continue
        starts_at, resets_at, label = period_bounds(
            scope=scope, time_zone=organization.time_zone, at=at
        )
        budgets.append(
            Budget(
                organization_id=organization.pk,
                scope=scope,
                limit=limit,
                period=label,
                starts_at=starts_at,
                resets_at=resets_at,
            )
        )
    return budgets


def budget_usage(budget: Budget) -> Usage:
    """Spent and reserved, read in one statement so a call being priced (its total written
    and its reservation released in one transaction) is counted exactly once."""
    return _usage_of(budget, budget.calls())


def call_estimate(*, campaign: Campaign) -> Decimal:
    """What one more call of the campaign is expected to cost: the campaign's running
    average once known, else its agent's per-call cap, else nothing."""
    history = Call.objects.filter(
        target__campaign_id=campaign.pk, priced_at__isnull=False, carrier_sid__isnull=False
    ).aggregate(average=Avg("cost_total"), count=Count("pk"))
    if history["count"] >= AVERAGE_AFTER_CALLS and history["average"] is not None:
        return Decimal(history["average"]).quantize(Decimal("0.000001"))
    cap = campaign.agent.max_cost_per_call if campaign.agent_id else None
    return cap if cap is not None else ZERO


def budget_blocking(*, campaign: Campaign, at: datetime) -> tuple[bool, datetime | None]:
    """For the compliance engine's budget rule: whether spent + one call's estimate already
    exceeds a budget of the campaign, and when every such budget renews (None: a campaign
    budget, which never does). A pre-check without reservations; the dial's reservation
    decides."""
    estimate = call_estimate(campaign=campaign)
    blocking = []
    for budget in budgets_applying(organization=campaign.organization, campaign=campaign, at=at):
        usage = budget_usage(budget)
        if usage.spent >= budget.limit or usage.spent + estimate > budget.limit:
            blocking.append(budget)
    if not blocking:
        return False, None
    resets = [budget.resets_at for budget in blocking]
    return True, None if None in resets else max(resets)


def budget_affordable_calls(*, campaign: Campaign, at: datetime) -> int | None:
    """How many more calls the campaign's budgets can reserve now (None: no budget limits
    it). Calls booked and not yet dialled count at the estimate they will reserve, so the
    tick books no call that its dial would only defer."""
    estimate = call_estimate(campaign=campaign)
    affordable = None
    for budget in budgets_applying(organization=campaign.organization, campaign=campaign, at=at):
        usage = budget_usage(budget)
        booked = budget.calls().filter(status=CallStatus.QUEUED, cost_reserved=0).count()
        left = budget.limit - usage.spent - usage.reserved - booked * estimate
        if estimate == 0 and left > 0:
            continue  # calls estimated at nothing: this budget does not limit how many
        fits = max(int(left // estimate), 0) if estimate > 0 else 0
        affordable = fits if affordable is None else min(affordable, fits)
    return affordable


def budget_reserve(*, call: Call, at: datetime) -> bool:
    """Reserve the call's estimate against every budget it counts in, inside the transaction
    that claims the call. Returns False when a budget cannot take it: the call is then
    cancelled (`over_budget`) and its target deferred until that budget renews.

    The organisation's row lock serialises the reservations of its dials; it is held until
    the claim commits. Safe to run twice: the reservation is a value on the call.
    """
    if call.direction != Call.Direction.OUTBOUND:
        return True
    organization = Organization.objects.select_for_update().get(pk=call.organization_id)
    campaign = Campaign.objects.select_related("agent").get(targets__calls=call)
    estimate = call_estimate(campaign=campaign)
    over = [
        usage
        for budget in budgets_applying(
            organization=organization, campaign=campaign, at=call.created_at
        )
        if (usage := budget_usage_excluding(budget, call_id=call.pk)).cannot_afford(estimate)
    ]
    if not over:
        Call.objects.filter(pk=call.pk).update(cost_reserved=estimate)
        return True
    resets = [usage.budget.resets_at for usage in over]
    retry_at = at + RECHECK_SPENT_CAMPAIGN if None in resets else max(max(resets), at)
    call_transition(
        call_id=call.pk,
        to=CallStatus.CANCELED,
        at=at,
        data={
            "reason": OVER_BUDGET,
            "budgets": [usage.budget.scope for usage in over],
            "estimate": str(estimate),
        },
        hangup_reason=OVER_BUDGET,
        cost_reserved=ZERO,
    )
    target_after_refusal(
        target_id=call.target_id, reason=OVER_BUDGET, verdict="defer", at=at, retry_at=retry_at
    )
    log.info("Call %s deferred to %s: over %s", call.pk, retry_at, [u.budget.scope for u in over])
    return False


def budget_usage_excluding(budget: Budget, *, call_id: int) -> Usage:
    """Usage without one call (the one being dialled, so a repeated claim does not count its
    own earlier reservation)."""
    return _usage_of(budget, budget.calls().exclude(pk=call_id))


def _usage_of(budget: Budget, calls: QuerySet) -> Usage:
    totals = calls.aggregate(
        spent=Coalesce(Sum("cost_total"), Value(ZERO), output_field=MONEY),
        reserved=Coalesce(Sum("cost_reserved", filter=HOLDING), Value(ZERO), output_field=MONEY),
    )
    return Usage(budget=budget, spent=totals["spent"], reserved=totals["reserved"])


def thresholds_reached(usage: Usage, *, estimate: Decimal) -> list[int]:
    """80 once spent reaches 80 % of the budget; 100 once spent reaches it, or once nothing
    is in flight and what is left cannot pay for another call (dials would only be
    deferred from then on)."""
    limit = usage.budget.limit
    reached = []
    if usage.spent >= limit * Decimal("0.8"):
        reached.append(BudgetAlert.Threshold.WARNING)
    if usage.spent >= limit or (usage.reserved == 0 and usage.spent + estimate > limit):
        reached.append(BudgetAlert.Threshold.EXHAUSTED)
    return reached


def budgets_enforce(*, call_id: int, at: datetime) -> list[BudgetAlert]:
    """After the call is priced: record each budget's 80 % and 100 % alerts (once per
    period), pause what an exhausted budget pays for, and notify after commit. Returns the
    alerts this run recorded. Safe to run twice and concurrently: an alert row is unique per
    budget, period and threshold, and only the run that inserts it acts on it."""
    from campaigns.budget_alerts import budget_alert_raise

    call = Call.objects.select_related("organization", "target__campaign__agent").get(pk=call_id)
    campaign = call.target.campaign if call.target_id else None
    estimate = call_estimate(campaign=campaign) if campaign is not None else ZERO
    raised = []
    for budget in budgets_applying(
        organization=call.organization, campaign=campaign, at=call.created_at
    ):
        raised += _raise_reached(budget, estimate=estimate, at=at, raise_alert=budget_alert_raise)
    return raised


def budget_alert_insert(*, usage: Usage, threshold: int, at: datetime) -> BudgetAlert | None:
    """Insert the alert row, or return None when this budget's period already has it."""
    budget = usage.budget
    try:
        with transaction.atomic():
            return BudgetAlert.objects.create(
                organization_id=budget.organization_id,
                campaign_id=budget.campaign_id,
                scope=budget.scope,
                period=budget.period,
                threshold=threshold,
                budget=budget.limit,
                spent=usage.spent,
                reserved=usage.reserved,
                created_at=at,
            )
    except IntegrityError:
        return None


def campaigns_paid_by(budget: Budget) -> QuerySet:
    """The running campaigns that stop when `budget` is exhausted."""
    running = Campaign.objects.filter(
        organization_id=budget.organization_id, status=Campaign.Status.RUNNING
    )
    if budget.scope == Scope.CAMPAIGN:
        return running.filter(pk=budget.campaign_id)
    return running


def budgets_enforce_all(*, at: datetime) -> list[BudgetAlert]:
    """Check every budget in force now, whatever priced its calls: the periodic safety net
    for a pricing run that died between writing its total and checking the budgets (a lost
    worker, a broker outage). Safe to run any number of times, like `budgets_enforce`."""
    from campaigns.budget_alerts import budget_alert_raise

    raised = []
    campaigns = Campaign.objects.filter(
        status__in=[Campaign.Status.RUNNING, Campaign.Status.PAUSED]
    ).select_related("organization", "agent")
    estimates: dict[int, list[Decimal]] = {}
    for campaign in campaigns:
        estimate = call_estimate(campaign=campaign)
        estimates.setdefault(campaign.organization_id, []).append(estimate)
        if campaign.budget is None:
            continue
        (budget,) = (
            budget
            for budget in budgets_applying(
                organization=campaign.organization, campaign=campaign, at=at
            )
            if budget.scope == Scope.CAMPAIGN
        )
        raised += _raise_reached(budget, estimate=estimate, at=at, raise_alert=budget_alert_raise)
    organizations = Organization.objects.filter(
        Q(daily_budget__isnull=False) | Q(monthly_budget__isnull=False)
    )
    for organization in organizations:
        # Exhausted when even the cheapest call of its campaigns no longer fits.
        estimate = min(estimates.get(organization.pk, [ZERO]))
        for budget in budgets_applying(organization=organization, campaign=None, at=at):
            raised += _raise_reached(
                budget, estimate=estimate, at=at, raise_alert=budget_alert_raise
            )
    return raised


def _raise_reached(budget: Budget, *, estimate: Decimal, at: datetime, raise_alert) -> list:
    usage = budget_usage(budget)
    alerts = (
        raise_alert(usage=usage, threshold=threshold, at=at)
        for threshold in thresholds_reached(usage, estimate=estimate)
    )
    return [alert for alert in alerts if alert is not None]
