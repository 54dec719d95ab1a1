from django.contrib import admin

from calls.carrier_prices import TOLERANCE, calls_with_carrier_price_mismatch
from calls.models import Call, CallEvent, CostEntry, PhoneNumber, RateCard, Turn

COST_FIELDS = [
    "cost_telephony",
    "cost_model",
    "cost_analysis",
    "cost_total",
    "currency",
    "priced_at",
    "cost_reserved",
    "carrier_price",
    "carrier_price_unit",
    "carrier_price_checks",
    "carrier_price_next_check_at",
]


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


def can_read_costs(request) -> bool:
    return request.user.has_perm("calls.view_costentry")


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "label",
        "organization",
        "is_caller_id",
        "is_inbound",
        "inbound_agent",
    ]
    list_filter = ["organization", "is_caller_id", "is_inbound"]


class SystemWrittenAdmin(admin.ModelAdmin):
    """Rows the call path writes; people read them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CallEventInline(ReadOnlyInline):
    model = CallEvent
    fields = ["at", "kind", "from_status", "to_status", "data"]


class TurnInline(ReadOnlyInline):
    model = Turn
    fields = ["started_ms", "ended_ms", "speaker", "text", "interrupted"]


class CostEntryInline(ReadOnlyInline):
    model = CostEntry
    fields = ["component", "quantity", "unit", "unit_price", "amount", "currency"]


@admin.register(Call)
class CallAdmin(SystemWrittenAdmin):
    """Calls are written by the system only; people read them. Costs show only to those
    allowed to read costs."""

    list_display = [
        "id",
        "direction",
        "to_number",
        "status",
        "outcome",
        "answered_by",
        "created_at",
    ]
    list_filter = ["status", "direction", "outcome", "organization"]
    search_fields = ["to_number", "from_number", "carrier_sid"]
    date_hierarchy = "created_at"

    def get_list_display(self, request):
        if can_read_costs(request):
            return [*self.list_display, "cost_total", "cost_telephony", "carrier_price"]
        return self.list_display

    def get_list_filter(self, request):
        if can_read_costs(request):
            return [*self.list_filter, CarrierPriceFilter]
        return self.list_filter

    def get_fields(self, request, obj=None):
        fields = [field.name for field in Call._meta.fields if field.name != "id"]
        if not can_read_costs(request):
            fields = [name for name in fields if name not in COST_FIELDS]
        return fields

    def get_inlines(self, request, obj):
        inlines = [TurnInline, CallEventInline]
        if can_read_costs(request):
            inlines.append(CostEntryInline)
        return inlines


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):
    list_display = ["component", "unit", "price", "currency", "effective_from"]
    list_filter = ["component"]


@admin.register(CostEntry)
class CostEntryAdmin(SystemWrittenAdmin):
    list_display = ["call", "component", "quantity", "unit", "unit_price", "amount", "currency"]
    list_filter = ["component"]


@admin.register(CallEvent)
class CallEventAdmin(SystemWrittenAdmin):
    list_display = ["call", "at", "kind", "from_status", "to_status"]
    list_filter = ["kind"]
    search_fields = ["call__carrier_sid", "call__to_number"]
    raw_id_fields = ["call"]


@admin.register(Turn)
class TurnAdmin(SystemWrittenAdmin):
    list_display = ["call", "started_ms", "speaker", "text", "interrupted"]
    list_filter = ["speaker", "interrupted"]
    search_fields = ["text", "call__to_number"]
    raw_id_fields = ["call"]
