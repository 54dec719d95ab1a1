"""The finance report page: spend per period, campaign and organisation, by kind of call,
per completed outcome, carrier price differences and budgets left, with a CSV of each.

Each table is built once (`report_tables`) and rendered both as HTML and as CSV, so a
download always holds what the page shows, for the same filter. Finance and admin only.
"""

import json
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from unfold.widgets import BASE_INPUT_CLASSES, UnfoldAdminSelectWidget

from calls import reports
from calls.reports import BadPeriod, Grouping, ReportFilter
from campaigns.models import Campaign
from tenancy.scoping import Tenant, scoped, tenant_of
from voiceops.csv_export import csv_response

CENT = Decimal("0.01")
HUNDREDTH_OF_A_CENT = Decimal("0.0001")
# Carrier differences listed on the page; the CSV has them all.
CARRIER_ROWS_SHOWN = 100
# Colours of the chart's stacks: unfold's palette, so dark mode follows.
STACK_COLOURS = {
    "Telephony": "var(--color-primary-700)",
    "Model": "var(--color-primary-400)",
    "Analysis": "var(--color-primary-200)",
}


def money(value: Decimal | None, places: Decimal = CENT) -> Decimal | str:
    return "" if value is None else Decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def can_read_reports(request) -> bool:
    return tenant_of(request).reads_costs and request.user.has_perm("calls.view_costentry")


class ReportForm(forms.Form):
    first = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date", "class": " ".join(BASE_INPUT_CLASSES)}),
    )
    last = forms.DateField(
        label="To (included)",
        widget=forms.DateInput(attrs={"type": "date", "class": " ".join(BASE_INPUT_CLASSES)}),
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        empty_label="All campaigns and inbound calls",
        widget=UnfoldAdminSelectWidget,
    )
    grouping = forms.ChoiceField(
        label="Spend per",
        choices=Grouping.choices,
        initial=Grouping.DAY,
        widget=UnfoldAdminSelectWidget,
    )

    def __init__(self, data, *, tenant: Tenant, today: date):
        first_of_month = today.replace(day=1)
        merged = {"first": first_of_month, "last": today, "grouping": Grouping.DAY}
        merged.update({key: value for key, value in data.items() if value})
        super().__init__(merged)
        self.fields["campaign"].queryset = scoped(Campaign.objects.all(), tenant).order_by("name")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        campaign = cleaned.get("campaign")
        try:
            cleaned["report"] = ReportFilter(
                first=cleaned["first"],
                last=cleaned["last"],
                campaign_id=campaign.pk if campaign else None,
                grouping=cleaned["grouping"],
            )
        except BadPeriod as error:
            raise forms.ValidationError(str(error)) from None
        return cleaned


@dataclass
class Table:
    """One table of the report: what the page shows and the CSV holds, cell for cell."""

    key: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    footer: list | None = None  # the totals row
    note: str = ""
    empty: str = "Nothing in this range."
    links: list[str] = field(default_factory=list)  # per row, for its first cell

    def csv_rows(self) -> list[list]:
        return [*self.rows, *([self.footer] if self.footer else [])]


def _period_label(period: date, grouping: str) -> str:
    if grouping == Grouping.MONTH:
        return f"{period:%Y-%m}"
    return period.isoformat()


def _sums_cells(row) -> list:
    return [
        row.calls,
        money(row.telephony),
        money(row.model),
        money(row.analysis),
        money(row.total),
    ]


SUMS_HEADERS = ["Priced calls", "Telephony", "Model", "Analysis", "Total"]


def _totals_footer(rows, label: str, padding: int = 0) -> list | None:
    totals = reports.spend_totals(rows)
    if len(totals) != 1:
        return None  # several currencies: each row already says its own
    ((currency, sums),) = totals.items()
    return [label, *[""] * padding, *_sums_cells(sums), currency]


def _periods_table(*, tenant: Tenant, report: ReportFilter, at: datetime) -> Table:
    periods = reports.spend_by_period(tenant=tenant, report=report)
    period_header = {"day": "Day", "week": "Week from", "month": "Month"}[report.grouping]
    return Table(
        "periods",
        f"Spend per {Grouping(report.grouping).label.split()[0].lower()}",
        [period_header, *SUMS_HEADERS, "Currency"],
        [
            [_period_label(row.period, report.grouping), *_sums_cells(row), row.currency]
            for row in periods
        ],
        footer=_totals_footer(periods, "Total"),
    )


def _campaigns_table(*, tenant: Tenant, report: ReportFilter, at: datetime) -> Table:
    everyone = tenant.sees_every_organization
    campaigns = reports.spend_by_campaign(tenant=tenant, report=report)
    return Table(
        "campaigns",
        "Spend per campaign",
        ["Campaign", *(["Organisation"] if everyone else []), *SUMS_HEADERS, "Currency"],
        [
            [
                row.campaign,
                *([row.organization] if everyone else []),
                *_sums_cells(row),
                row.currency,
            ]
            for row in campaigns
        ],
        footer=_totals_footer(campaigns, "Total", padding=1 if everyone else 0),
    )


def _organizations_table(*, tenant: Tenant, report: ReportFilter, at: datetime) -> Table:
    organizations = reports.spend_by_organization(tenant=tenant, report=report)
    return Table(
        "organizations",
        "Spend per organisation",
        ["Organisation", *SUMS_HEADERS, "Currency"],
        [[row.organization, *_sums_cells(row), row.currency] for row in organizations],
        footer=_totals_footer(organizations, "Total"),
    )


def _kinds_table(
    *, tenant: Tenant, report: ReportFilter, at: datetime, groups: list | None = None
) -> Table:
    if groups is None:
        groups = reports.call_kind_groups(tenant=tenant, report=report)
    kinds = reports.spend_by_call_kind(groups)
    return Table(
        "kinds",
        "Cost by what the calls came to",
        ["Calls", "Priced calls", "Cost", "Share of spend", "Currency"],
        [
            [
                row.label,
                row.calls,
                money(row.total),
                _share(row.total, sum(k.total for k in kinds if k.currency == row.currency)),
                row.currency,
            ]
            for row in kinds
        ],
        note="Voicemail, unanswered, busy and failed calls completed nothing, yet cost.",
    )


def _outcomes_table(
    *, tenant: Tenant, report: ReportFilter, at: datetime, groups: list | None = None
) -> Table:
    if groups is None:
        groups = reports.call_kind_groups(tenant=tenant, report=report)
    outcomes = reports.cost_per_outcome(groups)
    return Table(
        "outcomes",
        "Cost per completed outcome",
        [
            "Outcome",
            "Calls of these campaigns",
            "Completed",
            "Cost of all their calls",
            "Cost per outcome",
            "Currency",
        ],
        [
            [
                f"Per {row.outcome}",
                row.calls,
                row.completed,
                money(row.total),
                money(row.per_outcome) if row.per_outcome is not None else "none completed",
                row.currency,
            ]
            for row in outcomes
        ],
        note="Every call of the campaigns of that kind counts, attempts that reached "
        "nobody included.",
    )


def _carrier_section(*, tenant: Tenant, report: ReportFilter, at: datetime) -> Table:
    return _carrier_table(reports.carrier_differences(tenant=tenant, report=report))


def _budgets_section(*, tenant: Tenant, report: ReportFilter, at: datetime) -> Table:
    return _budgets_table(
        reports.budgets_left(tenant=tenant, at=at, campaign_id=report.campaign_id)
    )


# The report's tables in page order, by the name their CSV is downloaded under.
SECTIONS = {
    "periods": _periods_table,
    "campaigns": _campaigns_table,
    "organizations": _organizations_table,
    "kinds": _kinds_table,
    "outcomes": _outcomes_table,
    "carrier": _carrier_section,
    "budgets": _budgets_section,
}


def report_sections(tenant: Tenant) -> list[str]:
    """The tables the tenant's report has: per organisation only over every organisation
    (a member's is their own, which the totals already are)."""
    return [key for key in SECTIONS if key != "organizations" or tenant.sees_every_organization]


def report_tables(*, tenant: Tenant, report: ReportFilter, at: datetime) -> list[Table]:
    return [SECTIONS[key](tenant=tenant, report=report, at=at) for key in report_sections(tenant)]


def _share(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return ""
    return f"{(100 * part / whole).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} %"


def _carrier_table(calls) -> Table:
    table = Table(
        "carrier",
        "Carrier price differences",
        [
            "Call",
            "Started",
            "Campaign",
            "Contact",
            "Our estimate",
            "Carrier price",
            "Difference",
            "Currency",
        ],
        note="Calls the carrier priced more than one cent away from our carrier-minute "
        "estimate. A positive difference: the carrier charged more.",
    )
    for call in calls.iterator():
        zone = zoneinfo.ZoneInfo(call.organization.time_zone)
        target = call.target
        table.rows.append(
            [
                call.pk,
                f"{call.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
                target.campaign.name if target else reports.INBOUND,
                (target.contact.name or target.contact.phone) if target else call.from_number,
                money(call.carrier_estimate, HUNDREDTH_OF_A_CENT),
                money(call.carrier_price, HUNDREDTH_OF_A_CENT),
                money(call.carrier_difference, HUNDREDTH_OF_A_CENT),
                call.carrier_price_unit or call.currency,
            ]
        )
        table.links.append(reverse("admin:calls_call_change", args=[call.pk]))
    return table


def _budgets_table(budgets: list[reports.BudgetLeft]) -> Table:
    return Table(
        "budgets",
        "Budgets left",
        [
            "Budget",
            "Organisation",
            "Campaign",
            "Period",
            "Limit",
            "Spent",
            "Held for calls in progress",
            "Left",
            "Used",
        ],
        [
            [
                row.usage.budget.label,
                row.organization,
                row.campaign,
                row.usage.budget.period or "whole campaign",
                money(row.usage.budget.limit),
                money(row.usage.spent),
                money(row.usage.reserved),
                money(row.left),
                f"{row.usage.percent} %",
            ]
            for row in budgets
        ],
        note="Day and month in each organisation's time zone, as they stand now.",
        empty="No budget is set: the organisation's day and month budgets and each "
        "campaign's are set on their pages.",
    )


def _chart(periods: Table) -> str:
    """Chart.js data for the stacked bars: telephony, model and analysis per period, of the
    first currency (an organisation bills in one)."""
    currencies = sorted({row[-1] for row in periods.rows})
    rows = [row for row in periods.rows if currencies and row[-1] == currencies[0]]
    return json.dumps(
        {
            "labels": [row[0] for row in rows],
            "datasets": [
                {
                    "label": f"{name} ({currencies[0]})",
                    "data": [float(row[column]) for row in rows],
                    "backgroundColor": colour,
                    "stack": "spend",
                }
                for column, (name, colour) in enumerate(STACK_COLOURS.items(), start=2)
            ],
        }
    )


CHART_OPTIONS = json.dumps(
    {
        "responsive": True,
        "maintainAspectRatio": False,
        "plugins": {"legend": {"display": True, "position": "top", "align": "end"}},
        "scales": {
            "x": {"stacked": True, "grid": {"display": False}},
            "y": {"stacked": True, "beginAtZero": True},
        },
    }
)


def _tenant_today(tenant: Tenant) -> date:
    zone = tenant.organization.time_zone if tenant.organization is not None else "UTC"
    return timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()


def _checked(request) -> tuple[Tenant, ReportForm]:
    if not can_read_reports(request):
        raise PermissionDenied("Finance reports are for the finance and admin roles.")
    tenant = tenant_of(request)
    return tenant, ReportForm(request.GET, tenant=tenant, today=_tenant_today(tenant))


def finance_report_view(request, model_admin):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Finance report",
        "opts": model_admin.model._meta,
        # Not the theme's "Calls and costs > Daily campaign costs": this page is the report.
        "header_parts": [{"title": "Finance"}, {"title": "Finance report"}],
    }
    if not can_read_reports(request):
        # A page in the console rather than a bare error, saying whom to ask.
        return TemplateResponse(
            request,
            "admin/calls/finance_report_refused.html",
            {**context, "role": tenant_of(request).role or "none"},
            status=403,
        )
    tenant, form = _checked(request)
    context.update(form=form, organization=tenant.organization)
    if form.is_valid():
        report = form.cleaned_data["report"]
        tables = report_tables(tenant=tenant, report=report, at=timezone.now())
        by_key = {table.key: table for table in tables}
        carrier = by_key["carrier"]
        if len(carrier.rows) > CARRIER_ROWS_SHOWN:
            carrier.note += (
                f" Showing the {CARRIER_ROWS_SHOWN} largest of {len(carrier.rows)}; "
                "the CSV has them all."
            )
            carrier.rows = carrier.rows[:CARRIER_ROWS_SHOWN]
        periods = by_key["periods"]
        context.update(
            report=report,
            tables=tables,
            totals=periods.footer,
            chart=_chart(periods) if periods.rows else "",
            chart_options=CHART_OPTIONS,
            query=request.GET.urlencode(),
        )
    return TemplateResponse(request, "admin/calls/finance_report.html", context)


def finance_report_csv_view(request, model_admin, section: str):
    tenant, form = _checked(request)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(f"The report's filter is not valid ({problems}).")
    report = form.cleaned_data["report"]
    tables = {
        table.key: table for table in report_tables(tenant=tenant, report=report, at=timezone.now())
    }
    if section not in tables:
        raise Http404(f"The report has no table {section!r}.")
    table = tables[section]
    return csv_response(
        f"voiceops-{section}-{report.first}-{report.last}.csv", table.headers, table.csv_rows()
    )
