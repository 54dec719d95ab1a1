"""Organisation budgets per day and per month, in the organisation's time zone, across its
midnight; alerts once per period; notifications that survive a lost worker."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from calls.costs import call_price
from calls.dialing import call_claim
from calls.models import Call, CallStatus
from campaigns.budget_alerts import budget_alerts_notify_pending, budget_paused_campaigns_resume
from campaigns.budgets import budgets_enforce, budgets_enforce_all, period_bounds
from campaigns.lifecycle import campaign_pause
from campaigns.models import BudgetAlert, Campaign, Target
from campaigns.scheduling import campaign_tick
from tests.campaigns.budget_calls import campaign_with_booked_calls, end_at_the_carrier
from tests.factories import member_of

pytestmark = pytest.mark.django_db

# Dhaka's midnight is 13:00 in New York, inside the callees' calling hours, so the tick
# books calls on both sides of the organisation's midnight.
DHAKA = "Asia/Dhaka"
DAY = {
    "field": "daily_budget",
    "before": datetime(2026, 11, 24, 17, 50, tzinfo=UTC),  # Tue 24 Nov 23:50 in Dhaka
    "priced": datetime(2026, 11, 24, 17, 55, tzinfo=UTC),
    "midnight": datetime(2026, 11, 24, 18, 0, tzinfo=UTC),
    "after": datetime(2026, 11, 24, 18, 1, tzinfo=UTC),  # Wed 25 Nov 00:01 in Dhaka
    "next_reset": datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
    "periods": ("2026-11-24", "2026-11-25"),
}
MONTH = {
    "field": "monthly_budget",
    "before": datetime(2026, 11, 30, 17, 50, tzinfo=UTC),  # Mon 30 Nov 23:50 in Dhaka
    "priced": datetime(2026, 11, 30, 17, 55, tzinfo=UTC),
    "midnight": datetime(2026, 11, 30, 18, 0, tzinfo=UTC),
    "after": datetime(2026, 11, 30, 18, 1, tzinfo=UTC),  # Tue 1 Dec 00:01 in Dhaka
    "next_reset": datetime(2026, 12, 31, 18, 0, tzinfo=UTC),
    "periods": ("2026-11", "2026-12"),
}


def claim_all(call_ids, at) -> list[int]:
    return [call_id for call_id in call_ids if call_claim(call_id=call_id, at=at) is not None]


@pytest.mark.parametrize("period", [DAY, MONTH], ids=["daily", "monthly"])
def test_an_organisation_budget_defers_dials_to_its_midnight_and_renews_there(
    period, django_capture_on_commit_callbacks
):
    with time_machine.travel(period["before"], tick=False):
        campaign, booked = campaign_with_booked_calls(5, cap="1.00", at=period["before"])
        organization = campaign.organization
        organization.time_zone = DHAKA
        setattr(organization, period["field"], Decimal("2.00"))
        organization.save()

        placed = claim_all(booked, period["before"])

    assert len(placed) == 2
    deferred = Target.objects.filter(campaign=campaign, last_reason="over_budget")
    assert deferred.count() == 3
    assert {target.next_attempt_at for target in deferred} == {period["midnight"]}

    with time_machine.travel(period["priced"], tick=False):
        for call_id in placed:
            end_at_the_carrier(call_id)
            call_price(call_id=call_id)
        with django_capture_on_commit_callbacks(execute=True):
            for call_id in placed:
                budgets_enforce(call_id=call_id, at=period["priced"])

    alerts = BudgetAlert.objects.filter(organization=organization)
    assert sorted(alerts.values_list("period", "threshold")) == [
        (period["periods"][0], 80),
        (period["periods"][0], 100),
    ]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.paused_reason) == ("paused", "budget_exhausted")

    # Still the same day (or month): nothing renews, nothing resumes.
    assert budget_paused_campaigns_resume(at=period["priced"]) == []

    with time_machine.travel(period["after"], tick=False):
        assert budget_paused_campaigns_resume(at=period["after"]) == [campaign.pk]
        booked_after = campaign_tick(
            campaign_id=campaign.pk, at=period["after"], enqueue_dial=lambda call_id: None
        ).calls
        # The new day's budget holds two calls' estimates: two are booked, the third waits.
        assert len(booked_after) == 2
        placed_after = claim_all(booked_after, period["after"])

    assert len(placed_after) == 2
    assert Call.objects.filter(pk__in=placed_after, cost_reserved=Decimal("1.00")).count() == 2
    (still_waiting,) = Target.objects.filter(campaign=campaign, status=Target.Status.PENDING)
    assert still_waiting.next_attempt_at == period["after"]  # due, waiting for room


def test_a_day_is_the_organisations_day_not_utcs():
    start, end, label = period_bounds(
        scope="daily", time_zone="America/Los_Angeles", at=datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    )
    assert label == "2026-11-30"
    assert (start, end) == (
        datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    )


def test_a_month_ends_at_the_organisations_midnight_in_december_too():
    start, end, label = period_bounds(
        scope="monthly", time_zone="America/New_York", at=datetime(2027, 1, 1, 4, 59, tzinfo=UTC)
    )
    assert label == "2026-12"
    assert (start, end) == (
        datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 5, 0, tzinfo=UTC),
    )


def campaign_at_81_percent():
    """A campaign with a 1.25 budget whose two calls were placed, answered, ended and priced
    (1.011 spent), with room left for another call (its agent caps calls at 0.20)."""
    campaign, booked = campaign_with_booked_calls(2, cap="0.20", budget="1.25")
    placed = claim_all(booked, datetime.now(UTC))
    assert len(placed) == 2
    for call_id in placed:
        end_at_the_carrier(call_id, tokens=5_000)
        call_price(call_id=call_id)
    return campaign, placed


def test_an_alert_fires_once_per_period_however_often_pricing_runs(
    django_capture_on_commit_callbacks,
):
    campaign, placed = campaign_at_81_percent()
    member = member_of("finance", "fred", organization=campaign.organization)
    member.email = "fred@bayview.example"
    member.save()

    with django_capture_on_commit_callbacks(execute=True):
        first = budgets_enforce(call_id=placed[0], at=datetime.now(UTC))
        again = budgets_enforce(call_id=placed[1], at=datetime.now(UTC))
        once_more = budgets_enforce(call_id=placed[0], at=datetime.now(UTC))

    assert [alert.threshold for alert in first] == [80]
    assert again == once_more == []
    assert BudgetAlert.objects.count() == 1
    assert len(mail.outbox) == 1
    assert "80 % spent" in mail.outbox[0].subject
    assert "Spent: 1.01 USD" in mail.outbox[0].body
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING


def test_a_campaign_budget_pause_leaves_calls_in_progress_alone(
    django_capture_on_commit_callbacks,
):
    campaign, booked = campaign_with_booked_calls(4, cap="1.00", budget="3.00")
    first, second, talking, queued = booked
    claim_all([first, second, talking], datetime.now(UTC))
    # Two calls end; the third is still on the line; the fourth is booked, not dialled.
    for call_id in (first, second):
        end_at_the_carrier(call_id, tokens=20_000)  # 1.95 each: more than estimated
        call_price(call_id=call_id)

    with django_capture_on_commit_callbacks(execute=True):
        alerts = budgets_enforce(call_id=second, at=datetime.now(UTC))

    assert [alert.threshold for alert in alerts] == [80, 100]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.paused_reason) == ("paused", "budget_exhausted")
    assert Call.objects.get(pk=talking).status == CallStatus.DIALING
    assert Call.objects.get(pk=queued).status == CallStatus.CANCELED


def test_a_notification_lost_with_its_worker_is_sent_by_the_beat_task_once(
    django_capture_on_commit_callbacks,
):
    campaign, placed = campaign_at_81_percent()
    member = member_of("admin", "ada", organization=campaign.organization)
    member.email = "ada@bayview.example"
    member.save()

    # The worker dies after the alert commits, before its after-commit notification runs.
    with django_capture_on_commit_callbacks(execute=False):
        budgets_enforce(call_id=placed[1], at=datetime.now(UTC))
    assert mail.outbox == []
    assert BudgetAlert.objects.get().notified_at is None

    assert budget_alerts_notify_pending(at=datetime.now(UTC)) == 1
    assert budget_alerts_notify_pending(at=datetime.now(UTC)) == 0
    assert [message.to for message in mail.outbox] == [["ada@bayview.example"]]


@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="127.0.0.1",
    EMAIL_PORT=1,
)
def test_an_alert_whose_email_fails_stays_pending_for_the_next_attempt(
    django_capture_on_commit_callbacks,
):
    campaign, placed = campaign_at_81_percent()
    member = member_of("finance", "fred", organization=campaign.organization)
    member.email = "fred@bayview.example"
    member.save()

    with django_capture_on_commit_callbacks(execute=True):
        (alert,) = budgets_enforce(call_id=placed[1], at=datetime.now(UTC))

    alert.refresh_from_db()
    assert alert.notified_at is None
    assert budget_alerts_notify_pending(at=datetime.now(UTC)) == 0


def test_an_operator_pause_is_not_resumed_by_the_budget_task():
    campaign, _ = campaign_with_booked_calls(1, cap="1.00", budget="5.00")
    campaign_pause(campaign_id=campaign.pk, at=datetime.now(UTC))
    campaign.refresh_from_db()
    assert campaign.paused_reason == "operator"

    assert budget_paused_campaigns_resume(at=datetime.now(UTC)) == []


def test_the_periodic_check_catches_budgets_a_lost_pricing_run_never_checked(
    django_capture_on_commit_callbacks,
):
    # Priced, but the worker died before checking the budgets.
    campaign, _ = campaign_at_81_percent()
    organization = campaign.organization
    organization.daily_budget = Decimal("1.00")  # 1.011 spent today: used up
    organization.save()

    with django_capture_on_commit_callbacks(execute=True):
        raised = budgets_enforce_all(at=datetime.now(UTC))
        again = budgets_enforce_all(at=datetime.now(UTC))

    assert sorted((alert.scope, alert.threshold) for alert in raised) == [
        ("campaign", 80),
        ("daily", 80),
        ("daily", 100),
    ]
    assert again == []
    campaign.refresh_from_db()
    assert (campaign.status, campaign.paused_reason) == ("paused", "budget_exhausted")
