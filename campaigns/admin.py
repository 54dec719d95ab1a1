from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from calls.admin_end_call import can_end_calls
from campaigns import lifecycle
from campaigns.admin_campaign_form import (
    CampaignForm,
    retry_delays_in_words,
    retry_fieldset_fields,
    weekdays_in_words,
)
from campaigns.admin_campaign_list import CampaignListColumns, with_list_figures
from campaigns.admin_campaign_page import campaign_live_calls_view, campaign_page_context
from campaigns.admin_compliance import (
    campaign_preview_view,
    contact_explanation_view,
    target_explanation_view,
)
from campaigns.admin_imports import import_progress_view, import_upload_view
from campaigns.admin_survey_forms import QuestionForm
from campaigns.admin_survey_results import survey_results_csv_view, survey_results_view
from campaigns.admin_targeting import (
    AddToCampaignForm,
    add_to_campaign_selection,
    targeting_progress_view,
)
from campaigns.archive import (
    ARCHIVABLE,
    CampaignHasCalls,
    campaign_archive,
    campaign_refuse_deletion_with_calls,
    campaign_unarchive,
)
from campaigns.contact_list import contacts_with_call_history
from campaigns.launch_checks import campaign_launch_check
from campaigns.models import (
    BudgetAlert,
    Campaign,
    Consent,
    Contact,
    ImportJob,
    Organization,
    Question,
    RegistrySync,
    Suppression,
    Survey,
    Target,
    TargetingJob,
)
from campaigns.revocation import consent_revoke
from campaigns.targeting import InvalidSelection, campaign_add_targets
from tenancy.admin_scoping import ScopedAdmin, ScopedTabularInline
from tenancy.organization_switch import organization_switch_view
from tenancy.scoping import scoped, tenant_of
from voiceops import labels


def admin_url(model_admin: admin.ModelAdmin, route: str, view, name: str):
    """A page of `model_admin` behind the admin's login, named `campaigns_<model>_<name>`."""
    opts = model_admin.model._meta
    return path(
        route,
        model_admin.admin_site.admin_view(view),
        name=f"{opts.app_label}_{opts.model_name}_{name}",
    )


def can_revoke(request) -> bool:
    return request.user.has_perms(["campaigns.change_consent", "campaigns.add_suppression"])


def record_opt_outs(request, numbers: set[tuple[int, str]]) -> None:
    """Revoke consent and suppress each (organisation, phone), as if the callee opted out."""
    at = timezone.now()
    revoked = suppressed = 0
    for organization_id, phone in sorted(numbers):
        revocation = consent_revoke(
            organization_id=organization_id,
            phone=phone,
            via=Consent.RevokedVia.OPERATOR,
            at=at,
            reason=f"Recorded by {request.user.get_username()}",
        )
        revoked += revocation.consents_revoked
        suppressed += revocation.suppression_created
    messages.success(
        request,
        f"Opt-out recorded for {len(numbers)} number(s): {revoked} consent(s) revoked, "
        f"{suppressed} number(s) newly suppressed for every campaign.",
    )


@admin.register(Organization)
class OrganizationAdmin(ScopedAdmin):
    list_display = [
        "name",
        "callback_number",
        "time_zone",
        "daily_budget",
        "monthly_budget",
        "currency",
    ]
    search_fields = ["name"]

    def get_urls(self):
        return [
            # Any staff user may switch among the organisations they act in.
            path(
                "switch/",
                self.admin_site.admin_view(organization_switch_view),
                name="campaigns_organization_switch",
            ),
            *super().get_urls(),
        ]


class ConsentInline(ScopedTabularInline):
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
    # Revocation goes through `consent_revoke` (the actions), which also suppresses the
    # number; editing these fields by hand would do half of it, or undo an opt-out.
    readonly_fields = ["revoked_at", "revoked_via"]


@admin.register(Contact)
class ContactAdmin(ScopedAdmin):
    list_display = [
        "phone",
        "name",
        "state",
        "consent_status",
        "opted_out",
        "last_call",
        "last_outcome",
        "organization",
    ]
    list_filter = ["organization", "state", "language"]
    list_fullwidth = True
    search_fields = ["phone", "name", "postal_code"]
    inlines = [ConsentInline]
    actions = ["record_opt_out", "add_to_campaign"]

    def get_urls(self):
        return [
            admin_url(
                self, "import/", lambda request: import_upload_view(request, "contacts"), "import"
            ),
            admin_url(
                self, "<int:contact_id>/explanation/", contact_explanation_view, "explanation"
            ),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        return contacts_with_call_history(super().get_queryset(request))

    @admin.display(description="consent")
    def consent_status(self, contact):
        if contact.has_consent:
            return "Given"
        if contact.has_revoked_consent:
            return "Revoked"
        return "None on file"

    @admin.display(description="opted out", ordering="is_opted_out")
    def opted_out(self, contact):
        # Words, not a red cross: "not opted out" is the good case.
        return "Opted out" if contact.is_opted_out else "No"

    @admin.display(description="last call", ordering="last_call_at")
    def last_call(self, contact):
        if contact.last_call_at is None:
            return "Never called"
        url = reverse("admin:calls_call_change", args=[contact.last_call_id])
        local = timezone.localtime(contact.last_call_at)
        return format_html('<a href="{}">{}</a>', url, f"{local:%Y-%m-%d %H:%M}")

    @admin.display(description="last outcome", ordering="last_outcome")
    def last_outcome(self, contact):
        if contact.last_call_at is None:
            return "—"
        if contact.last_outcome:
            return labels.outcome_label(contact.last_outcome)
        return labels.call_status_label(contact.last_status)

    def has_revoke_permission(self, request) -> bool:
        return can_revoke(request)

    def has_add_to_campaign_permission(self, request) -> bool:
        return request.user.has_perm("campaigns.change_campaign")

    @admin.action(
        description="Record opt-out: revoke consent and suppress the number",
        permissions=["revoke"],
    )
    def record_opt_out(self, request, queryset):
        record_opt_outs(request, set(queryset.values_list("organization_id", "phone")))

    @admin.action(description="Add to campaign…", permissions=["add_to_campaign"])
    def add_to_campaign(self, request, queryset):
        """Ask for the campaign, then add the selection: the ticked contacts, or with
        "select all" the changelist's filter (never a list of every id)."""
        select_across = request.POST.get("select_across") == "1"
        form = AddToCampaignForm(
            request.POST if "apply" in request.POST else None, tenant=tenant_of(request)
        )
        if form.is_valid():
            campaign = form.cleaned_data["campaign"]
            try:
                job = campaign_add_targets(
                    campaign_id=campaign.pk,
                    user_id=request.user.pk,
                    **add_to_campaign_selection(request, queryset, select_across=select_across),
                )
            except (InvalidSelection, lifecycle.CampaignStateError) as error:
                self.message_user(request, str(error), messages.ERROR)
                return None
            if not job.is_finished:
                return redirect("admin:campaigns_targetingjob_progress", job.pk)
            self.message_user(
                request,
                f"{job.added} contact(s) added to {campaign.name!r}; "
                f"{job.processed - job.added} were already in it.",
            )
            return None
        return TemplateResponse(
            request,
            "admin/campaigns/add_to_campaign.html",
            {
                **self.admin_site.each_context(request),
                "title": "Add contacts to a campaign",
                "opts": self.model._meta,
                "form": form,
                "count": queryset.count(),
                "select_across": select_across,
                # A page at most: with "select all" the filter travels instead of ids.
                "selected": [] if select_across else list(queryset.values_list("pk", flat=True)),
                "sample": queryset[:20],
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Consent)
class ConsentAdmin(ScopedAdmin):
    list_display = ["contact", "purpose", "is_written", "source", "captured_at", "revoked_at"]
    list_filter = ["purpose", "is_written", "revoked_via"]
    search_fields = ["contact__phone", "contact__name"]
    raw_id_fields = ["contact"]
    readonly_fields = ["revoked_at", "revoked_via"]  # see ConsentInline
    actions = ["revoke"]

    def has_revoke_permission(self, request) -> bool:
        return can_revoke(request)

    @admin.action(
        description="Revoke: every consent of these numbers, and suppress them",
        permissions=["revoke"],
    )
    def revoke(self, request, queryset):
        # Policy: an opt-out covers every purpose and campaign of the organisation.
        record_opt_outs(
            request, set(queryset.values_list("contact__organization_id", "contact__phone"))
        )


@admin.register(Suppression)
class SuppressionAdmin(ScopedAdmin):
    list_display = ["phone", "source", "state", "reason", "organization", "added_at"]
    list_filter = ["source", "state", "organization"]
    search_fields = ["phone"]
    show_full_result_count = False  # registries hold millions of rows

    def save_model(self, request, obj, form, change):
        if change or obj.source != Suppression.Source.OPT_OUT:
            super().save_model(request, obj, form, change)
            return
        # An opt-out entered by hand is a revocation like any other: consent goes too.
        consent_revoke(
            organization_id=obj.organization_id,
            phone=obj.phone,
            via=Consent.RevokedVia.OPERATOR,
            at=timezone.now(),
            reason=obj.reason or f"Recorded by {request.user.get_username()}",
        )
        obj.pk = Suppression.objects.get(
            organization_id=obj.organization_id, phone=obj.phone, source=obj.source, state=""
        ).pk
        obj.refresh_from_db()

    def get_urls(self):
        return [
            admin_url(
                self,
                "import/",
                lambda request: import_upload_view(request, "suppressions"),
                "import",
            ),
            *super().get_urls(),
        ]


@admin.register(RegistrySync)
class RegistrySyncAdmin(ScopedAdmin):
    list_display = ["organization", "source", "state", "synced_at", "numbers", "imported_at"]
    list_filter = ["source"]


class QuestionInline(ScopedTabularInline):
    model = Question
    form = QuestionForm
    extra = 1
    fields = ["position", "kind", "text", "choices", "scale_min", "scale_max"]

    # As in the API: once a campaign has asked the questions, answers refer to them, so
    # they are shown but no longer change.
    def is_asked(self, survey) -> bool:
        return (
            survey is not None and survey.campaigns.exclude(status=Campaign.Status.DRAFT).exists()
        )

    def has_add_permission(self, request, obj=None):
        return not self.is_asked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self.is_asked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.is_asked(obj) and super().has_delete_permission(request, obj)


@admin.register(Survey)
class SurveyAdmin(ScopedAdmin):
    list_display = ["name", "question_count", "results", "organization"]
    inlines = [QuestionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(question_total=Count("questions"))

    @admin.display(description="questions", ordering="question_total")
    def question_count(self, survey):
        return survey.question_total

    @admin.display(description="results")
    def results(self, survey):
        url = reverse("admin:campaigns_survey_results", args=[survey.pk])
        return format_html('<a href="{}">Results</a>', url)

    def get_urls(self):
        return [
            admin_url(self, "<int:survey_id>/results/", survey_results_view, "results"),
            admin_url(self, "<int:survey_id>/results.csv", survey_results_csv_view, "results_csv"),
            *super().get_urls(),
        ]


class ArchivedFilter(admin.SimpleListFilter):
    """Archived campaigns leave the list unless asked for."""

    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "Not archived"), ("yes", "Archived"), ("all", "All")]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "no") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or "no"
        if value == "yes":
            return queryset.filter(archived_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)


@admin.register(Campaign)
class CampaignAdmin(CampaignListColumns, ScopedAdmin):
    list_display = [
        "name",
        "status_badge",
        "progress",
        "next_step",
        "kind",
        "purpose",
        "launched_at",
    ]
    list_select_related = ["organization"]

    def get_queryset(self, request):
        return with_list_figures(super().get_queryset(request))

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if tenant_of(request).reads_costs:
            columns.insert(3, "spend")
        if tenant_of(request).sees_every_organization:
            columns.append("organization")
        return columns

    list_filter = [ArchivedFilter, "status", "paused_reason", "kind", "purpose", "organization"]
    search_fields = ["name"]
    form = CampaignForm
    readonly_fields = [
        "status",
        "launched_at",
        "paused_at",
        "paused_reason",
        "finished_at",
        "archived_at",
        "created_by",
        "created_at",
    ]

    def get_fieldsets(self, request, obj=None):
        # Readers (finance) see the settings in words; the form's own fields (checkboxes,
        # hours and minutes) are for those who may change them.
        may_change = self.has_change_permission(request, obj)
        weekdays = "weekdays" if may_change else "weekday_names"
        retries = retry_fieldset_fields() if may_change else ["retry_delays_readable"]
        fieldsets = [
            (
                "Campaign",
                {
                    "classes": ["tab"],
                    "fields": [
                        "organization",
                        "name",
                        "kind",
                        "purpose",
                        "agent",
                        "survey",
                        "caller_id",
                    ],
                },
            ),
            (
                "When",
                {
                    "classes": ["tab"],
                    "fields": ["window_start", "window_end", weekdays, "starts_at", "ends_at"],
                },
            ),
            (
                "Pacing and retries",
                {
                    "classes": ["tab"],
                    "fields": [
                        "max_concurrent_calls",
                        "calls_per_second",
                        "max_attempts",
                        *retries,
                    ],
                },
            ),
            ("Budget", {"classes": ["tab"], "fields": ["budget"]}),
            ("Status", {"classes": ["tab"], "fields": self.readonly_fields}),
        ]
        if self.organization_is_assigned(request) and obj is None:
            # As ScopedAdmin does: members create into their own organisation.
            fieldsets[0][1]["fields"].remove("organization")
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.has_change_permission(request, obj):
            readonly += ["weekday_names", "retry_delays_readable"]
        return readonly

    @admin.display(description="weekdays")
    def weekday_names(self, campaign):
        return weekdays_in_words(campaign)

    @admin.display(description="retry delays")
    def retry_delays_readable(self, campaign):
        return retry_delays_in_words(campaign)

    def get_actions(self, request):
        # Deleting goes through the campaign's own page, which refuses a campaign with calls.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        campaign = self.get_object(request, object_id)
        if campaign is not None and self.has_delete_permission(request, campaign):
            try:
                campaign_refuse_deletion_with_calls(campaign)
            except CampaignHasCalls as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
                return redirect("admin:campaigns_campaign_change", campaign.pk)
        return super().delete_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            admin_url(self, "<int:campaign_id>/preview/", campaign_preview_view, "preview"),
            admin_url(
                self, "<int:campaign_id>/live-calls/", campaign_live_calls_view, "live_calls"
            ),
            admin_url(
                self,
                "<int:campaign_id>/run/<str:action>/",
                require_POST(self.lifecycle_view),
                "lifecycle",
            ),
            *super().get_urls(),
        ]

    def lifecycle_view(self, request, campaign_id: int, action: str):
        """Launch, pause, resume or cancel, from the buttons on the change page."""
        if not request.user.has_perm("campaigns.change_campaign"):
            raise PermissionDenied
        campaign = get_object_or_404(scoped(Campaign.objects, tenant_of(request)), pk=campaign_id)
        at = timezone.now()
        try:
            if action == "launch":
                lifecycle.campaign_launch(campaign_id=campaign.pk, user_id=request.user.pk, at=at)
            elif action == "archive":
                campaign_archive(campaign_id=campaign.pk, at=at)
                self.message_user(
                    request,
                    f"Campaign {campaign.name!r} is archived: it no longer shows in the "
                    "campaign list unless you filter on archived campaigns.",
                )
                return redirect("admin:campaigns_campaign_changelist")
            elif action == "unarchive":
                campaign_unarchive(campaign_id=campaign.pk)
                self.message_user(request, f"Campaign {campaign.name!r} is back in the list.")
                return redirect("admin:campaigns_campaign_change", campaign.pk)
            elif action in ("pause", "resume", "cancel"):
                getattr(lifecycle, f"campaign_{action}")(campaign_id=campaign.pk, at=at)
            else:
                raise PermissionDenied
        except lifecycle.CampaignStateError as error:
            self.message_user(request, str(error), messages.ERROR)
        except ValidationError as error:  # the campaign's settings are not launchable
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            campaign.refresh_from_db()
            self.message_user(
                request,
                f"Campaign {campaign.name!r} is now {campaign.get_status_display().lower()}.",
            )
            if action == "launch":
                for warning in campaign_launch_check(campaign=campaign).warnings:
                    self.message_user(request, warning, messages.WARNING)
        return redirect("admin:campaigns_campaign_change", campaign.pk)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_run_campaign"] = request.user.has_perm("campaigns.change_campaign")
        if obj is not None:
            context["can_archive"] = obj.archived_at is None and obj.status in ARCHIVABLE
            context["campaign_page"] = campaign_page_context(request, obj)
            context["live_labels"] = labels.vocabularies()
            context["can_end_calls"] = can_end_calls(request)
            # Campaigns > name: the app's name as well left the campaign's cut to "Campai…".
            context["header_parts"] = [
                {"title": "Campaigns", "link": reverse("admin:campaigns_campaign_changelist")},
                {"title": obj.name},
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)


class LabelledCodeFilter(admin.SimpleListFilter):
    """The codes present in the user's targets, shown by their labels."""

    label = staticmethod(labels.reason_label)

    def lookups(self, request, model_admin):
        codes = (
            model_admin.get_queryset(request)
            .exclude(**{self.parameter_name: ""})
            .order_by()
            .values_list(self.parameter_name, flat=True)
            .distinct()
        )
        return sorted(((code, self.label(code)) for code in codes), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.parameter_name: self.value()})
        return queryset


class LastReasonFilter(LabelledCodeFilter):
    title = "last reason"
    parameter_name = "last_reason"


class OutcomeFilter(LabelledCodeFilter):
    title = "outcome"
    parameter_name = "outcome"
    label = staticmethod(labels.outcome_label)


@admin.register(Target)
class TargetAdmin(ScopedAdmin):
    list_display = [
        "contact",
        "campaign",
        "status_label",
        "attempts",
        "next_attempt_at",
        "why_waiting",
        "outcome_label",
        "explanation",
    ]
    list_filter = ["status", "campaign", LastReasonFilter, OutcomeFilter]
    search_fields = ["contact__phone", "contact__name"]
    raw_id_fields = ["contact"]

    @admin.display(description="status", ordering="status")
    def status_label(self, target):
        return labels.target_status_label(target.status)

    @admin.display(description="last reason", ordering="last_reason")
    def why_waiting(self, target):
        return labels.reason_label(target.last_reason) if target.last_reason else "-"

    @admin.display(description="outcome", ordering="outcome")
    def outcome_label(self, target):
        return labels.outcome_label(target.outcome) if target.outcome else "-"

    @admin.display(description="why")
    def explanation(self, target):
        url = reverse("admin:campaigns_target_explanation", args=[target.pk])
        return format_html('<a href="{}">explain</a>', url)

    def get_urls(self):
        return [
            admin_url(self, "<int:target_id>/explanation/", target_explanation_view, "explanation"),
            *super().get_urls(),
        ]


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdmin):
    list_display = [
        "file_name",
        "kind",
        "organization",
        "status",
        "progress",
        "created",
        "updated",
        "unchanged",
        "error_count",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    list_display_links = None

    def get_urls(self):
        return [
            admin_url(self, "<int:job_id>/progress/", import_progress_view, "progress"),
            *super().get_urls(),
        ]

    @admin.display(description="progress")
    def progress(self, job):
        url = reverse("admin:campaigns_importjob_progress", args=[job.pk])
        percent = job.percent
        return format_html('<a href="{}">{}</a>', url, "…" if percent is None else f"{percent} %")

    def has_add_permission(self, request):
        return False  # jobs are created by uploading on the contact or suppression list

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TargetingJob)
class TargetingJobAdmin(ScopedAdmin):
    list_display = [
        "campaign",
        "status",
        "progress",
        "total",
        "processed",
        "added",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "campaign"]
    list_display_links = None

    def get_urls(self):
        return [
            admin_url(self, "<int:job_id>/progress/", targeting_progress_view, "progress"),
            *super().get_urls(),
        ]

    @admin.display(description="progress")
    def progress(self, job):
        url = reverse("admin:campaigns_targetingjob_progress", args=[job.pk])
        return format_html('<a href="{}">{} %</a>', url, job.percent)

    def has_add_permission(self, request):
        return False  # jobs are started from the contact list ("Add to campaign…") or the API

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Question)
class QuestionAdmin(ScopedAdmin):
    list_display = ["survey", "position", "kind", "text"]
    list_filter = ["survey", "kind"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ScopedAdmin):
    """Budgets that reached 80 % or 100 %, one row per budget, period and threshold. Written
    by the system; finance and admins read them, each in their own organisation."""

    list_display = [
        "created_at",
        "scope",
        "campaign",
        "period",
        "threshold",
        "spent",
        "budget",
        "currency",
        "notified_at",
    ]
    list_filter = ["scope", "threshold"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), tenant_of(request)).select_related("campaign")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
