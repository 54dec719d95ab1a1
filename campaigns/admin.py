from django.contrib import admin

from campaigns.models import (
    Campaign,
    Consent,
    Contact,
    Organization,
    Question,
    RegistrySync,
    Suppression,
    Survey,
    Target,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "callback_number",
        "time_zone",
        "daily_budget",
        "monthly_budget",
        "currency",
    ]
    search_fields = ["name"]


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0
    fields = [
        "purpose",
        "is_written",
        "seller_named",
        "source",
        "captured_at",
        "revoked_at",
        "revoked_via",
    ]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["phone", "name", "state", "postal_code", "language", "organization"]
    list_filter = ["organization", "state", "language"]
    search_fields = ["phone", "name", "postal_code"]
    inlines = [ConsentInline]


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["contact", "purpose", "is_written", "source", "captured_at", "revoked_at"]
    list_filter = ["purpose", "is_written", "revoked_via"]
    search_fields = ["contact__phone", "contact__name"]
    raw_id_fields = ["contact"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["phone", "source", "state", "reason", "organization", "added_at"]
    list_filter = ["source", "state", "organization"]
    search_fields = ["phone"]


@admin.register(RegistrySync)
class RegistrySyncAdmin(admin.ModelAdmin):
    list_display = ["organization", "source", "state", "synced_at", "numbers", "imported_at"]
    list_filter = ["source"]


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1
    fields = ["position", "kind", "text", "choices", "scale_min", "scale_max"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    inlines = [QuestionInline]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "purpose", "status", "organization", "launched_at"]
    list_filter = ["status", "kind", "purpose", "organization"]
    search_fields = ["name"]
    readonly_fields = [
        "status",
        "launched_at",
        "paused_at",
        "finished_at",
        "created_by",
        "created_at",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["organization", "name", "kind", "purpose", "agent", "survey", "caller_id"]},
        ),
        ("When", {"fields": ["window_start", "window_end", "weekdays", "starts_at", "ends_at"]}),
        (
            "Pacing and retries",
            {
                "fields": [
                    "max_concurrent_calls",
                    "calls_per_second",
                    "max_attempts",
                    "retry_delays",
                ]
            },
        ),
        ("Budget", {"fields": ["budget"]}),
        ("Status", {"fields": readonly_fields}),
    ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = [
        "contact",
        "campaign",
        "status",
        "attempts",
        "next_attempt_at",
        "last_reason",
        "outcome",
    ]
    list_filter = ["status", "campaign", "last_reason"]
    search_fields = ["contact__phone", "contact__name"]
    raw_id_fields = ["contact"]
