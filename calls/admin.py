from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.contrib.filters.admin import (
    ChoicesDropdownFilter,
    RangeDateFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import display
from unfold.utils import parse_date_str

from calls.admin_ledger import CallDayFilter, LedgerCampaignFilter, ledger_csv, ledger_sums
from calls.admin_reports import finance_report_csv_view, finance_report_view
from calls.call_page import call_page_context, duration_text
from calls.carrier_prices import TOLERANCE, calls_with_carrier_price_mismatch
from calls.models import (
    Call,
    CallEvent,
    CampaignDailyCost,
    CostEntry,
    PhoneNumber,
    RateCard,
    SurveyAnswer,
    Turn,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from calls.recording_media import recording_audio_view
from calls.webhooks_out import webhook_delivery_retry_now
from campaigns.models import Campaign
from tenancy.admin_scoping import ScopedAdmin, ScopedTabularInline
from tenancy.scoping import scoped, tenant_of
from voiceops.labels import event_text, outcome_label


class CarrierPriceFilter(admin.SimpleListFilter):
    """Calls by how the carrier's own price compares with our estimate of it."""

    title = "carrier price"
    parameter_name = "carrier_price"

    def lookups(self, request, model_admin):
        return [
            ("differs", f"Differs from our estimate by more than {TOLERANCE * 100:.0f} cent"),
            ("awaiting", "Not priced by the carrier yet"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "differs":
            return calls_with_carrier_price_mismatch(calls=queryset)
        if self.value() == "awaiting":
            return queryset.filter(carrier_sid__isnull=False, carrier_price__isnull=True)
        return queryset


class OutcomeFilter(admin.SimpleListFilter):
    """Calls by outcome, in words, among the outcomes the organisation's calls have."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        outcomes = (
            model_admin.get_queryset(request)
            .exclude(outcome="")
            .values_list("outcome", flat=True)
            .distinct()
            .order_by("outcome")
        )
        return [(outcome, outcome_label(outcome)) for outcome in outcomes]

    def queryset(self, request, queryset):
        return queryset.filter(outcome=self.value()) if self.value() else queryset


# How the ledger list says a line's quantity and its rate, short enough for one line.
UNIT_NOUNS = {"minute": "min", "call": "call", "million_tokens": "tokens"}
UNIT_RATES = {"minute": "minute", "call": "call", "million_tokens": "M tokens"}


def admin_page(model_admin, route: str, view, name: str):
    """A page of `model_admin` behind the admin's login, named `<app>_<model>_<name>`; the
    view gets the model admin after the request."""
    opts = model_admin.model._meta
    return path(
        route,
        model_admin.admin_site.admin_view(
            lambda request, **kwargs: view(request, model_admin, **kwargs)
        ),
        name=f"{opts.app_label}_{opts.model_name}_{name}",
    )


def can_read_costs(request) -> bool:
    return request.user.has_perm("calls.view_costentry")


@admin.register(PhoneNumber)
class PhoneNumberAdmin(ScopedAdmin):
    list_display = [
        "number",
        "label",
        "organization",
        "is_caller_id",
        "is_inbound",
        "inbound_agent",
    ]
    list_filter = ["organization", "is_caller_id", "is_inbound"]


class SystemWrittenAdmin(ScopedAdmin):
    """Rows the call path writes; people read them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ScopedTabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description="Re-run analysis")
def rerun_analysis(modeladmin, request, queryset):
    # By name, after commit: the worker re-reads the call and replaces its analysis.
    from calls.tasks import analyze_call

    call_ids = list(queryset.values_list("pk", flat=True))
    for call_id in call_ids:
        transaction.on_commit(lambda call_id=call_id: analyze_call.delay(call_id))
    modeladmin.message_user(
        request,
        f"Analysis queued for {len(call_ids)} call{'s' if len(call_ids) != 1 else ''}; "
        "each replaces the call's previous analysis.",
        messages.SUCCESS,
    )


class DayRangeFilter(RangeDateFilter):
    """A from/to date range on a date-time column, both days included (the theme's own
    compares with midnight, which would leave out the "to" day)."""

    def queryset(self, request, queryset):
        filters = {}
        for suffix, lookup in (("_from", "gte"), ("_to", "lte")):
            value = self.used_parameters.get(self.parameter_name + suffix)
            if isinstance(value, str) and value:
                filters[f"{self.parameter_name}__date__{lookup}"] = parse_date_str(value)
        try:
            return queryset.filter(**filters)
        except (ValueError, ValidationError):
            return None


class CampaignDropdownFilter(RelatedDropdownFilter):
    """Calls by campaign, listing only the organisation's campaigns."""

    def field_choices(self, field, request, model_admin):
        campaigns = scoped(Campaign.objects.order_by("name"), tenant_of(request))
        return [(campaign.pk, campaign.name) for campaign in campaigns]


@admin.register(Call)
class CallAdmin(SystemWrittenAdmin):
    """Calls are written by the system only; people read them, on a call page of their own
    (calls/call_page.py). Costs show only to those allowed to read costs."""

    list_display = [
        "call",
        "placed",
        "campaign",
        "contact",
        "duration",
        "outcome_badge",
        "status",
    ]
    list_display_links = ["call"]
    list_select_related = ["target__campaign", "target__contact"]
    list_filter = [
        ("created_at", DayRangeFilter),
        ("target__campaign", CampaignDropdownFilter),
        "status",
        "direction",
        OutcomeFilter,
        "answered_by",
        "sentiment",
        "is_abandoned",
        "organization",
    ]
    list_filter_submit = True
    list_fullwidth = True
    actions = [rerun_analysis]
    search_fields = ["to_number", "from_number", "carrier_sid", "target__contact__name"]
    ordering = ["-created_at", "-id"]

    def get_list_display(self, request):
        if can_read_costs(request):
            return [*self.list_display, "cost", "carrier_charge"]
        return self.list_display

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if can_read_costs(request):
            return [*filters, CarrierPriceFilter]
        return filters

    @admin.display(description="call", ordering="id")
    def call(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="placed", ordering="created_at")
    def placed(self, obj):
        return f"{timezone.localtime(obj.created_at):%d %b %Y %H:%M}"

    @admin.display(description="campaign", ordering="target__campaign__name")
    def campaign(self, obj):
        return obj.target.campaign.name if obj.target_id else "Inbound line"

    @admin.display(description="contact")
    def contact(self, obj):
        if obj.target_id:
            contact = obj.target.contact
            return contact.name or contact.phone
        return obj.from_number

    @admin.display(description="duration", ordering="duration_seconds")
    def duration(self, obj):
        return duration_text(obj)

    @display(description="outcome", ordering="outcome", label=True)
    def outcome_badge(self, obj):
        return outcome_label(obj.outcome)

    @admin.display(description="cost", ordering="cost_total")
    def cost(self, obj):
        return f"{obj.cost_total:.4f} {obj.currency}"

    @admin.display(description="carrier's price", ordering="carrier_price")
    def carrier_charge(self, obj):
        if obj.carrier_price is None:
            return "—"
        return f"{obj.carrier_price:.4f} {obj.carrier_price_unit}"

    def get_urls(self):
        return [
            path(
                "<int:call_id>/recordings/<int:recording_id>/audio/",
                self.admin_site.admin_view(recording_audio_view),
                name="calls_call_recording_audio",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The call page instead of a form: the record is written by the system."""
        call = self.get_object(request, object_id)
        if call is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, call) or request.method not in ("GET", "HEAD"):
            raise PermissionDenied  # nobody changes a call by hand
        context = {
            **self.admin_site.each_context(request),
            "title": f"Call {call.pk}",
            "opts": self.opts,
            **call_page_context(
                call,
                can_read_costs=can_read_costs(request),
                can_listen=request.user.has_perm("calls.view_recording"),
            ),
        }
        return TemplateResponse(request, "admin/calls/call/call_page.html", context)


@admin.register(RateCard)
class RateCardAdmin(ScopedAdmin):
    """The providers' prices. A component has one row per model (and per date it changed),
    so the model column is what tells the rows apart."""

    list_display = ["component", "model_name", "price", "unit", "currency", "effective_from"]
    list_filter = [("component", ChoicesDropdownFilter), "unit"]
    search_fields = ["model"]
    ordering = ["component", "model", "-effective_from"]

    @admin.display(description="model", ordering="model")
    def model_name(self, obj):
        return obj.model or "Every model"


@admin.register(CostEntry)
class CostEntryAdmin(SystemWrittenAdmin):
    """The ledger, filterable, with the sums of the filtered lines and their CSV."""

    list_display = ["call_link", "campaign", "component", "units", "rate", "amount", "currency"]
    list_filter = [
        LedgerCampaignFilter,
        ("component", ChoicesDropdownFilter),
        ("call__created_at", CallDayFilter),
    ]
    list_filter_submit = True
    list_select_related = ["call__target__campaign"]
    list_before_template = "admin/calls/costentry/ledger_sums.html"
    search_fields = ["call__to_number", "call__target__contact__name"]

    @admin.display(description="call", ordering="call_id")
    def call_link(self, obj):
        url = reverse("admin:calls_call_change", args=[obj.call_id])
        return format_html('<a href="{}">Call {}</a>', url, obj.call_id)

    @admin.display(description="units", ordering="quantity")
    def units(self, obj):
        return f"{obj.quantity.normalize():,f} {UNIT_NOUNS[obj.unit]}"

    @admin.display(description="rate", ordering="unit_price")
    def rate(self, obj):
        return f"{obj.unit_price.normalize():f} per {UNIT_RATES[obj.unit]}"

    @admin.display(description="campaign", ordering="call__target__campaign__name")
    def campaign(self, obj):
        target = obj.call.target
        return target.campaign.name if target else "Inbound calls"

    def get_urls(self):
        return [
            admin_page(
                self, "export.csv", lambda request, model_admin: self.export(request), "export"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["ledger_sums"] = ledger_sums(context["cl"].queryset)
        return response

    def export(self, request):
        """The lines the list shows for the same filter, all of them, streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return ledger_csv(changelist.queryset)


@admin.register(CallEvent)
class CallEventAdmin(SystemWrittenAdmin):
    list_display = ["call", "at", "what_happened"]
    list_filter = ["kind"]
    search_fields = ["call__carrier_sid", "call__to_number"]
    raw_id_fields = ["call"]

    @admin.display(description="what happened", ordering="kind")
    def what_happened(self, event):
        return event_text(
            event.kind, event.data, from_status=event.from_status, to_status=event.to_status
        )


@admin.register(Turn)
class TurnAdmin(SystemWrittenAdmin):
    list_display = ["call", "started_ms", "speaker", "text", "interrupted"]
    list_filter = ["speaker", "interrupted"]
    search_fields = ["text", "call__to_number"]
    raw_id_fields = ["call"]


@admin.register(CampaignDailyCost)
class CampaignDailyCostAdmin(SystemWrittenAdmin):
    """The daily roll-up; finance reads it through the finance report it links to."""

    list_display = ["day", "organization", "campaign", "calls", "cost_total", "currency"]
    list_filter = ["organization"]
    date_hierarchy = "day"
    list_before_template = "admin/calls/campaigndailycost/report_link.html"

    def has_module_permission(self, request):
        return can_read_costs(request)

    def has_view_permission(self, request, obj=None):
        return can_read_costs(request) and super().has_view_permission(request, obj)

    def get_urls(self):
        return [
            admin_page(self, "report/", finance_report_view, "report"),
            admin_page(self, "report/<slug:section>.csv", finance_report_csv_view, "report_csv"),
            *super().get_urls(),
        ]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ScopedAdmin):
    list_display = ["organization", "url", "is_active", "created_at"]
    list_filter = ["is_active"]


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["at", "url", "status_code", "error", "duration_ms"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SystemWrittenAdmin):
    """Every event sent to an organisation's URL, with each attempt and its answer."""

    list_display = [
        "event",
        "organization",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    ]
    list_filter = ["status", "event", "organization"]
    search_fields = ["event_id"]
    date_hierarchy = "created_at"
    fields = [
        "event",
        "event_id",
        "organization",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "payload",
    ]
    inlines = [WebhookAttemptInline]
    actions = ["retry_now"]

    def has_retry_permission(self, request):
        return request.user.has_perm("calls.change_webhookdelivery")

    @admin.action(description="Retry the selected deliveries now", permissions=["retry"])
    def retry_now(self, request, queryset):
        count = webhook_delivery_retry_now(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            f"{count} deliver{'y' if count == 1 else 'ies'} will be sent again now"
            " (delivered ones are left as they are).",
            messages.SUCCESS,
        )


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(SystemWrittenAdmin):
    list_display = ["call", "question", "value", "source", "analysis_value"]
    list_filter = ["question__survey", "question", "source"]
    raw_id_fields = ["call"]
