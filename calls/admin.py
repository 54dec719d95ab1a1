from django.contrib import admin, messages
from django.db import transaction

from calls.models import Call, CallEvent, CostEntry, PhoneNumber, RateCard, SurveyAnswer, Turn

COST_FIELDS = [
    "cost_telephony",
    "cost_model",
    "cost_analysis",
    "cost_total",
    "currency",
    "priced_at",
]


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
    fields = ["component", "quantity", "unit", "unit_price", "amount", "currency", "rate_card"]


class SurveyAnswerInline(ReadOnlyInline):
    model = SurveyAnswer
    fields = ["question", "answer", "source", "analysis_value"]
    readonly_fields = ["answer"]

    @admin.display(description="answer")
    def answer(self, obj):
        return obj.value


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
        "sentiment",
        "analysis",
        "answered_by",
        "created_at",
    ]
    list_filter = ["status", "direction", "outcome", "sentiment", "organization"]
    actions = [rerun_analysis]
    search_fields = ["to_number", "from_number", "carrier_sid"]
    date_hierarchy = "created_at"

    def get_list_display(self, request):
        if can_read_costs(request):
            return [*self.list_display, "cost_total"]
        return self.list_display

    def get_fields(self, request, obj=None):
        fields = [field.name for field in Call._meta.fields if field.name != "id"]
        if not can_read_costs(request):
            fields = [name for name in fields if name not in COST_FIELDS]
        return fields

    @admin.display(description="analysis")
    def analysis(self, obj):
        if obj.analysis_error:
            return f"Failed: {obj.analysis_error}"
        if obj.analysed_at is None:
            return "-"
        if obj.is_outcome_disputed:
            return f"Analysed (reads the outcome as {obj.analysis_outcome})"
        return "Analysed"

    def get_inlines(self, request, obj):
        inlines = [TurnInline, SurveyAnswerInline, CallEventInline]
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


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(SystemWrittenAdmin):
    list_display = ["call", "question", "value", "source", "analysis_value"]
    list_filter = ["question__survey", "question", "source"]
    raw_id_fields = ["call"]
