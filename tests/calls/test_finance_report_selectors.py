"""The finance report's numbers equal the ledger's lines over the same filter: per period,
campaign, organisation and kind of call, across New York's midnight, and nobody else's."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from calls import reports
from calls.models import CostEntry
from calls.reports import BadPeriod, CallKind, Grouping, ReportFilter
from tenancy.scoping import Tenant
from tests.calls.finance_world import (
    FIRST,
    LAST,
    build_world,
    ledger_lines,
    ledger_sums,
    local_day,
)

pytestmark = pytest.mark.django_db


def totals_of(rows) -> dict[str, Decimal]:
    ((currency, sums),) = reports.spend_totals(rows).items()
    assert currency == "USD"
    return {name: getattr(sums, name) for name in ("telephony", "model", "analysis", "total")}


@pytest.mark.parametrize("grouping", Grouping.values)
def test_spend_per_period_equals_the_ledger_lines_of_the_same_days(grouping):
    world = build_world()
    tenant = Tenant(organization=world.organization, role="finance")
    report = ReportFilter(first=FIRST, last=LAST, grouping=grouping)

    periods = reports.spend_by_period(tenant=tenant, report=report)

    lines = ledger_lines(world.organization)
    assert totals_of(periods) == ledger_sums(lines)
    # Every priced call counts, the unanswered ones that have no ledger line too.
    assert sum(row.calls for row in periods) == len(
        [call for call in world.calls if FIRST <= local_day(call) <= LAST]
    )
    if grouping == Grouping.DAY:
        assert [row.period for row in periods] == [FIRST, LAST]
        for row in periods:
            day_lines = ledger_lines(world.organization, first=row.period, last=row.period)
            assert row.total == ledger_sums(day_lines)["total"]
    else:
        # Both days fall in the week from Monday 9 November and in November.
        assert len(periods) == 1
        assert periods[0].period == (
            date(2026, 11, 9) if grouping == Grouping.WEEK else date(2026, 11, 1)
        )


def test_spend_per_campaign_and_for_one_campaign_equals_the_ledger():
    world = build_world()
    tenant = Tenant(organization=world.organization, role="finance")

    campaigns = reports.spend_by_campaign(
        tenant=tenant, report=ReportFilter(first=FIRST, last=LAST)
    )
    only_survey = reports.spend_by_period(
        tenant=tenant, report=ReportFilter(first=FIRST, last=LAST, campaign_id=world.survey.pk)
    )

    by_campaign = {row.campaign_id: row.total for row in campaigns}
    assert by_campaign == {
        campaign.pk: ledger_sums(ledger_lines(world.organization, campaign=campaign))["total"]
        for campaign in (world.reminders, world.survey)
    }
    assert totals_of(only_survey) == ledger_sums(
        ledger_lines(world.organization, campaign=world.survey)
    )


def test_the_cost_of_each_kind_of_call_adds_up_to_the_ledger_and_is_told_apart():
    world = build_world()
    tenant = Tenant(organization=world.organization, role="finance")
    report = ReportFilter(first=FIRST, last=LAST)

    groups = reports.call_kind_groups(tenant=tenant, report=report)
    kinds = {row.kind: row for row in reports.spend_by_call_kind(groups)}
    outcomes = {row.outcome: row for row in reports.cost_per_outcome(groups)}

    lines = ledger_lines(world.organization)
    assert sum(row.total for row in kinds.values()) == ledger_sums(lines)["total"]
    voicemail = [line for line in lines if line.call.outcome == "voicemail"]
    assert kinds[CallKind.VOICEMAIL].total == ledger_sums(voicemail)["total"] > 0
    # Four starts fall on the 11th and 12th in New York; one call of each ending per start.
    for kind in (CallKind.NO_ANSWER, CallKind.BUSY, CallKind.FAILED, CallKind.CONFIRMED):
        assert kinds[kind].calls == 4
    reminder_lines = ledger_lines(world.organization, campaign=world.reminders)
    confirmed = outcomes["confirmed reminder"]
    assert confirmed.completed == 4
    assert confirmed.total == ledger_sums(reminder_lines)["total"]
    assert confirmed.per_outcome == confirmed.total / 4
    assert outcomes["completed survey"].completed == 4


def test_another_organisations_costs_never_appear_and_a_superuser_sees_both():
    world = build_world()
    member = Tenant(organization=world.organization, role="finance")
    report = ReportFilter(first=FIRST, last=LAST)

    theirs = [
        row.organization for row in reports.spend_by_organization(tenant=member, report=report)
    ]
    root = Tenant(user=type("Root", (), {"is_superuser": True})())
    everyone = reports.spend_by_organization(tenant=root, report=report)

    assert theirs == ["Bayview Dental"]
    assert {row.organization for row in everyone} == {"Bayview Dental", "Rival Clinic"}
    both = CostEntry.objects.select_related("call")
    assert sum(row.total for row in everyone) == sum(
        line.amount for line in both if FIRST <= local_day(line.call) <= LAST
    )
    campaigns = {row.campaign for row in reports.spend_by_campaign(tenant=member, report=report)}
    assert "Rival reminders" not in campaigns


def test_carrier_differences_list_the_calls_the_carrier_priced_otherwise():
    world = build_world()
    tenant = Tenant(organization=world.organization, role="finance")

    differing = list(
        reports.carrier_differences(tenant=tenant, report=ReportFilter(first=FIRST, last=LAST))
    )

    assert len(differing) == 1
    call = differing[0]
    assert call.carrier_price == Decimal("0.5")
    assert call.carrier_difference == Decimal("0.5") - call.carrier_estimate


def test_budgets_left_show_the_day_month_and_campaign_budgets():
    world = build_world()
    world.organization.daily_budget = Decimal("100")
    world.organization.monthly_budget = Decimal("1000")
    world.organization.save()
    world.reminders.budget = Decimal("50")
    world.reminders.save()
    tenant = Tenant(organization=world.organization, role="finance")

    rows = reports.budgets_left(tenant=tenant, at=datetime(2026, 11, 12, 20, 30, tzinfo=UTC))

    by_label = {(row.usage.budget.label, row.campaign): row for row in rows}
    month = by_label[("Monthly budget", "")]
    assert month.usage.budget.period == "2026-11"
    november = sum(
        line.amount
        for line in ledger_lines(
            world.organization, first=date(2026, 11, 1), last=date(2026, 11, 30)
        )
    )
    assert month.usage.spent == november
    assert month.left == Decimal("1000") - november
    assert ("Campaign budget", world.reminders.name) in by_label
    assert all(row.organization == "Bayview Dental" for row in rows)


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(BadPeriod, match="starts on 2026-11-12 after it ends on 2026-11-11"):
        ReportFilter(first=date(2026, 11, 12), last=date(2026, 11, 11))
