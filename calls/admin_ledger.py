"""The cost ledger's list for finance: filters by campaign, component and the day a call
started (in the organisation's time zone, as the finance report counts it), the sums of
the filtered lines, and a streamed CSV of exactly those lines."""

from django.db.models import Count, Sum
from unfold.contrib.filters.admin import DropdownFilter, RangeDateFilter
from unfold.utils import parse_date_str

from calls.models import CostComponent, RateCard
from calls.reports import local_range
from campaigns.models import Campaign
from tenancy.scoping import scoped, tenant_of
from voiceops.csv_export import csv_response

LEDGER_HEADER = [
    "Line",
    "Call",
    "Call started (UTC)",
    "Campaign",
    "Contact",
    "Contact phone",
    "Component",
    "Units",
    "Unit",
    "Rate",
    "Amount",
    "Currency",
]


class LedgerCampaignFilter(DropdownFilter):
    """The campaign of the line's call, among the campaigns the user may see."""

    title = "campaign"
    parameter_name = "campaign"

    def lookups(self, request, model_admin):
        campaigns = scoped(Campaign.objects.all(), tenant_of(request)).order_by("name")
        return [("inbound", "Inbound calls"), *((str(c.pk), c.name) for c in campaigns)]

    def queryset(self, request, queryset):
        if self.value() == "inbound":
            return queryset.filter(call__target__isnull=True)
        if self.value():
            return queryset.filter(call__target__campaign_id=self.value())
        return queryset


class CallDayFilter(RangeDateFilter):
    """By the day the line's call started, in the organisation's time zone (UTC for a
    superuser looking at every organisation), the days counted as the report counts them."""

    title = "day the call started"

    def queryset(self, request, queryset):
        tenant = tenant_of(request)
        zone = tenant.organization.time_zone if tenant.organization is not None else "UTC"
        first = parse_date_str(self.used_parameters.get(f"{self.parameter_name}_from") or "")
        last = parse_date_str(self.used_parameters.get(f"{self.parameter_name}_to") or "")
        if first is not None:
            queryset = queryset.filter(
                call__created_at__gte=local_range(first=first, last=first, time_zone=zone)[0]
            )
        if last is not None:
            queryset = queryset.filter(
                call__created_at__lt=local_range(first=last, last=last, time_zone=zone)[1]
            )
        return queryset


def ledger_sums(queryset) -> list[dict]:
    """The filtered lines added up, per currency."""
    return list(
        queryset.order_by()
        .values("currency")
        .annotate(lines=Count("pk"), amount=Sum("amount"))
        .order_by("currency")
    )


def ledger_rows(queryset):
    """One CSV row per ledger line, read in chunks so a year of lines streams."""
    lines = queryset.order_by("call_id", "component").values_list(
        "pk",
        "call_id",
        "call__created_at",
        "call__target__campaign__name",
        "call__target__contact__name",
        "call__target__contact__phone",
        "call__from_number",
        "component",
        "quantity",
        "unit",
        "unit_price",
        "amount",
        "currency",
    )
    components = dict(CostComponent.choices)
    units = dict(RateCard.Unit.choices)
    for line in lines.iterator(chunk_size=2000):
        (pk, call_id, started, campaign, name, phone, caller, component, quantity, unit,
         rate, amount, currency) = line  # fmt: skip
        yield [
            pk,
            call_id,
            started.strftime("%Y-%m-%d %H:%M:%S"),
            campaign or "Inbound calls",
            name or "",
            phone or caller,  # an inbound call's contact is its caller
            components.get(component, component),
            quantity,
            units.get(unit, unit),
            rate,
            amount,
            currency,
        ]


def ledger_csv(queryset, *, filename: str = "voiceops-cost-ledger.csv"):
    return csv_response(filename, LEDGER_HEADER, ledger_rows(queryset))
