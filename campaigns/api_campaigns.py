"""The campaigns API under /api/: surveys with their ordered questions, campaigns (create,
read, update what the status allows, launch, pause, resume, cancel), their progress, a
preview of what the next tick would decide, and their audience (targets).

Which fields may change in which status (`EDITABLE_IN`): a draft may change anything but
its organisation. Once launched (running or paused) its audience's rules are fixed: kind,
purpose, agent, survey, caller ID and start stay as launched (consent was checked for that
purpose, answers belong to that survey, calls already placed came from that number);
the name, the calling window and weekdays, the end, pacing, attempts, retry delays and the
budget may still change and apply from the next tick. An ended campaign (completed or
cancelled) may only be renamed.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from agents.models import Agent
from calls.models import PhoneNumber
from campaigns import lifecycle
from campaigns.admin_compliance import campaign_preview, explanation_of
from campaigns.api import ExplanationSerializer, explanation_data
from campaigns.eligibility import target_explanation
from campaigns.launch_checks import campaign_launch_check
from campaigns.models import Campaign, Question, Survey, Target
from campaigns.selectors import campaign_progress, campaign_spend
from campaigns.targeting import FILTER_KEYS, InvalidSelection, campaign_add_targets
from tenancy.api_scoping import (
    InOrganizationSerializer,
    OrganizationField,
    ScopedQuerysetMixin,
    ScopedRelatedField,
)
from tenancy.scoping import tenant_of
from voiceops.api_errors import Conflict

S = Campaign.Status

ALWAYS = {"name"}
WHILE_LAUNCHED = ALWAYS | {
    "window_start",
    "window_end",
    "weekdays",
    "ends_at",
    "max_concurrent_calls",
    "calls_per_second",
    "max_attempts",
    "retry_delays",
    "budget",
}
DRAFT_ONLY = {"kind", "purpose", "agent", "survey", "caller_id", "starts_at"}
EDITABLE_IN = {
    S.DRAFT: WHILE_LAUNCHED | DRAFT_ONLY,
    S.RUNNING: WHILE_LAUNCHED,
    S.PAUSED: WHILE_LAUNCHED,
    S.COMPLETED: ALWAYS,
    S.CANCELLED: ALWAYS,
}


def model_errors(error: DjangoValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})


# Surveys ------------------------------------------------------------------------------


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["id", "position", "kind", "text", "choices", "scale_min", "scale_max"]
        read_only_fields = ["id", "position"]

    def validate(self, attrs):
        question = Question(**attrs)
        try:
            question.clean()
        except DjangoValidationError as error:
            raise model_errors(error) from None
        if question.kind == Question.Kind.SCALE and question.scale_min >= question.scale_max:
            raise ValidationError({"scale_max": "The scale must end above where it starts."})
        return attrs


class SurveySerializer(InOrganizationSerializer):
    organization = OrganizationField()
    questions = QuestionSerializer(
        many=True,
        help_text="In the order they are asked; writing the list replaces every question.",
    )

    class Meta:
        model = Survey
        fields = ["id", "organization", "name", "questions", "created_at"]
        read_only_fields = ["created_at"]

    def validate_questions(self, value):
        if not value:
            raise ValidationError("A survey needs at least one question.")
        return value

    @transaction.atomic
    def create(self, validated_data):
        questions = validated_data.pop("questions")
        survey = Survey.objects.create(**validated_data)
        self.questions_replace(survey, questions)
        return survey

    @transaction.atomic
    def update(self, instance, validated_data):
        questions = validated_data.pop("questions", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if questions is not None:
            self.questions_replace(instance, questions)
        return instance

    def questions_replace(self, survey: Survey, questions: list[dict]) -> None:
        if survey.pk and survey.campaigns.exclude(status=S.DRAFT).exists():
            raise Conflict(
                "A launched campaign asks this survey's questions; they can no longer change."
            )
        survey.questions.all().delete()
        Question.objects.bulk_create(
            Question(survey=survey, position=index, **question)
            for index, question in enumerate(questions, start=1)
        )


class SurveyViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
    """Surveys and their questions, asked in list order."""

    serializer_class = SurveySerializer
    queryset = Survey.objects.prefetch_related("questions").order_by("pk")
    filterset_fields = {"name": ["exact", "icontains"]}


# Campaigns ----------------------------------------------------------------------------


class CampaignSerializer(InOrganizationSerializer):
    organization = OrganizationField()
    agent = ScopedRelatedField(queryset=Agent.objects.all())
    survey = ScopedRelatedField(queryset=Survey.objects.all(), required=False, allow_null=True)
    caller_id = ScopedRelatedField(
        queryset=PhoneNumber.objects.filter(is_caller_id=True),
        help_text="A phone number of the organisation marked as outbound caller ID.",
    )
    editable_fields = serializers.SerializerMethodField(
        help_text="The fields an update may change in the current status."
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "organization",
            "name",
            "kind",
            "purpose",
            "agent",
            "survey",
            "caller_id",
            "status",
            "window_start",
            "window_end",
            "weekdays",
            "starts_at",
            "ends_at",
            "max_concurrent_calls",
            "calls_per_second",
            "max_attempts",
            "retry_delays",
            "budget",
            "editable_fields",
            "created_by",
            "created_at",
            "launched_at",
            "paused_at",
            "finished_at",
        ]
        read_only_fields = [
            "status",
            "created_by",
            "created_at",
            "launched_at",
            "paused_at",
            "finished_at",
        ]

    def get_editable_fields(self, campaign) -> list[str]:
        return sorted(EDITABLE_IN[campaign.status])

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None:
            editable = EDITABLE_IN[self.instance.status]
            frozen = {
                name: (
                    f"A {self.instance.get_status_display().lower()} campaign's {name} cannot "
                    f"change; it may change: {', '.join(sorted(editable))}."
                )
                for name, value in attrs.items()
                if name not in editable and value != getattr(self.instance, name)
            }
            if frozen:
                raise ValidationError(frozen)
            attrs = {name: value for name, value in attrs.items() if name in editable}
            campaign = Campaign(
                **{
                    field.attname: getattr(self.instance, field.attname)
                    for field in Campaign._meta.concrete_fields
                }
            )
        else:
            campaign = Campaign()
        for name, value in attrs.items():
            setattr(campaign, name, value)
        try:
            campaign.clean()
        except DjangoValidationError as error:
            raise model_errors(error) from None
        return attrs

    def create(self, validated_data):
        user = self.context["request"].user
        validated_data["created_by"] = user if getattr(user, "pk", None) else None
        return super().create(validated_data)


class CampaignFilter(filters.FilterSet):
    # By id: a choice filter would list every organisation's agents in the browsable API.
    agent = filters.NumberFilter(field_name="agent")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Campaign
        fields = ["status", "kind", "purpose", "agent", "created_after", "created_before"]


class ProgressSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=S.choices)
    targets = serializers.DictField(
        child=serializers.IntegerField(), help_text="Targets by status: pending, calling…"
    )
    total = serializers.IntegerField()
    outcomes = serializers.DictField(
        child=serializers.IntegerField(), help_text="Targets by the outcome of their calls."
    )
    calls_in_progress = serializers.IntegerField()


class SpendSerializer(serializers.Serializer):
    spent = serializers.DecimalField(max_digits=14, decimal_places=6)
    budget = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    remaining = serializers.DecimalField(max_digits=14, decimal_places=6, allow_null=True)
    currency = serializers.CharField()


class ProgressWithSpendSerializer(ProgressSerializer):
    spend = SpendSerializer(
        required=False, help_text="Finance and admin roles only: absent for operators."
    )


class DeferralSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()
    earliest = serializers.DateTimeField(allow_null=True, help_text="Soonest lawful instant.")
    latest = serializers.DateTimeField(allow_null=True)


class DenialSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class PreviewSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    callable = serializers.IntegerField(help_text="Pending targets callable at `at`.")
    deferred = DeferralSerializer(many=True, help_text="Deferred, by reason, until when.")
    denied = DenialSerializer(many=True, help_text="Denied, by reason.")
    not_evaluated = serializers.DictField(
        child=serializers.IntegerField(), help_text="Targets no longer pending, by status."
    )


class InstantQuerySerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False, help_text="ISO-8601 instant; without a zone, UTC. Defaults to now."
    )

    def validate_at(self, value):
        from datetime import UTC

        return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value


class TargetsAddSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_empty=False
    )
    filter = serializers.DictField(
        required=False,
        help_text='Contacts matching every given key: {"state": "FL", "language": "en", '
        '"variables": {"clinic": "north"}}.',
    )
    all_contacts = serializers.BooleanField(required=False, default=False)

    FILTER_KEYS = set(FILTER_KEYS)

    def validate_filter(self, value):
        unknown = set(value) - self.FILTER_KEYS
        if unknown:
            raise ValidationError(
                f"Unknown filter keys: {', '.join(sorted(unknown))}; use "
                f"{', '.join(sorted(self.FILTER_KEYS))}."
            )
        if not value:
            raise ValidationError(f"Name at least one of: {', '.join(sorted(self.FILTER_KEYS))}.")
        if "variables" in value and not isinstance(value["variables"], dict):
            raise ValidationError({"variables": "An object of variable names and values."})
        for key in ("state", "language", "search"):
            if key in value and not isinstance(value[key], str):
                raise ValidationError({key: "A string."})
        if isinstance(value.get("state"), str):
            value["state"] = value["state"].upper()
        return value

    def validate(self, attrs):
        chosen = [name for name in ("contact_ids", "filter") if attrs.get(name) is not None] + (
            ["all_contacts"] if attrs.get("all_contacts") else []
        )
        if len(chosen) != 1:
            raise ValidationError("Give exactly one of contact_ids, filter, or all_contacts: true.")
        return attrs


class TargetsAddedSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="The job adding them (the admin shows it too).")
    status = serializers.CharField(help_text="pending, running, done or failed.")
    matched = serializers.IntegerField(help_text="Contacts chosen.")
    processed = serializers.IntegerField(help_text="Contacts handled so far.")
    added = serializers.IntegerField(help_text="Newly targeted so far; the rest already were.")
    percent = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField(help_text="The campaign's targets now.")
    url = serializers.CharField(help_text="Poll it (GET) until status is done or failed.")


class TargetSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="contact.phone", read_only=True)
    name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "contact",
            "phone",
            "name",
            "status",
            "attempts",
            "next_attempt_at",
            "last_reason",
            "outcome",
            "variables",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LaunchedCampaignSerializer(CampaignSerializer):
    """The campaign just launched, with what the launch check warned of."""

    launch_warnings = serializers.SerializerMethodField(
        help_text="For each template variable the agent uses, how many targets lack it."
    )

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "launch_warnings"]

    def get_launch_warnings(self, campaign) -> list[str]:
        return campaign_launch_check(campaign=campaign).warnings


LIFECYCLE = {"launch", "pause", "resume", "cancel"}


class CampaignViewSet(
    ScopedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Campaigns: create and edit (what the status allows: `editable_fields`), launch,
    pause, resume or cancel, add their audience, and watch their progress."""

    serializer_class = CampaignSerializer
    queryset = Campaign.objects.order_by("-pk")
    filterset_class = CampaignFilter
    conflict_actions = LIFECYCLE | {"targets"}

    @property
    def required_permissions(self):
        if self.action in LIFECYCLE:
            return {"*": "campaigns.change_campaign"}
        if self.action == "targets":
            return {"GET": "campaigns.view_target", "*": "campaigns.add_target"}
        if self.action in ("progress", "preview"):
            return {"*": "campaigns.view_campaign"}
        if self.action == "target_explain":
            return {"*": "campaigns.view_target"}
        return None

    def get_serializer_class(self):
        return {
            "progress": ProgressWithSpendSerializer,
            "preview": PreviewSerializer,
        }.get(self.action, super().get_serializer_class())

    def lifecycle(self, action_name: str):
        campaign = self.get_object()
        at = timezone.now()
        try:
            if action_name == "launch":
                user_id = getattr(self.request.user, "pk", None)
                lifecycle.campaign_launch(campaign_id=campaign.pk, user_id=user_id, at=at)
            else:
                getattr(lifecycle, f"campaign_{action_name}")(campaign_id=campaign.pk, at=at)
        except lifecycle.CampaignStateError as error:
            raise Conflict(str(error)) from None
        except DjangoValidationError as error:  # the campaign's settings are not launchable
            raise Conflict(" ".join(error.messages)) from None
        campaign.refresh_from_db()
        serializer = LaunchedCampaignSerializer if action_name == "launch" else CampaignSerializer
        return Response(serializer(campaign, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=LaunchedCampaignSerializer, summary="Start calling")
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        """Start calling: 409 with the reason when the campaign is not a launchable draft."""
        return self.lifecycle("launch")

    @extend_schema(request=None, responses=CampaignSerializer, summary="Stop new calls")
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """No new dials; calls already placed finish; queued calls wait for the resume."""
        return self.lifecycle("pause")

    @extend_schema(request=None, responses=CampaignSerializer, summary="Call again")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """A paused campaign calls again from the next tick."""
        return self.lifecycle("resume")

    @extend_schema(request=None, responses=CampaignSerializer, summary="End the campaign")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """No further calls; calls in progress finish; pending targets close."""
        return self.lifecycle("cancel")

    @extend_schema(responses=ProgressWithSpendSerializer, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def progress(self, request, pk=None):
        """Targets by status and outcome and calls in progress; for finance and admin
        roles also `spend`: what the calls cost so far, against the budget."""
        campaign = self.get_object()
        data = campaign_progress(campaign_id=campaign.pk)
        if tenant_of(request).reads_costs:
            data["spend"] = campaign_spend(campaign_id=campaign.pk)
        return Response(ProgressWithSpendSerializer(data).data)

    @extend_schema(parameters=[InstantQuerySerializer], responses=PreviewSerializer, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def preview(self, request, pk=None):
        """What the next tick would decide at `at` for each pending target: callable now,
        deferred (by reason, until when) or denied (by reason), as the admin's preview."""
        campaign = self.get_object()
        query = InstantQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        preview = campaign_preview(campaign, at=query.validated_data.get("at") or timezone.now())
        data = {
            "at": preview.at,
            "callable": preview.callable,
            "deferred": [
                {
                    "reason": group.reason,
                    "count": group.count,
                    "earliest": group.earliest,
                    "latest": group.latest,
                }
                for group in sorted(preview.deferred.values(), key=lambda group: -group.count)
            ],
            "denied": [
                {"reason": reason, "count": count} for reason, count in preview.denied.most_common()
            ],
            "not_evaluated": dict(preview.not_evaluated),
        }
        return Response(PreviewSerializer(data).data)

    @extend_schema(
        parameters=[
            InstantQuerySerializer,
            OpenApiParameter("target_id", int, OpenApiParameter.PATH, description="The target"),
        ],
        responses=ExplanationSerializer,
        summary="Why a target is or is not called at an instant",
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"targets/(?P<target_id>[0-9]+)/explain",
        filterset_class=None,
        pagination_class=None,
    )
    def target_explain(self, request, pk=None, target_id=None):
        """Every rule's answer for this target (its attempts and caps too), the verdict and
        the next lawful instant, as the admin's target explanation."""
        campaign = self.get_object()
        target = get_object_or_404(
            campaign.targets.select_related(
                "contact", "campaign__organization", "campaign__caller_id"
            ),
            pk=target_id,
        )
        query = InstantQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = query.validated_data.get("at") or timezone.now()
        decision, rules = target_explanation(target, at=at)
        evaluated_for = f"campaign {campaign.name!r} ({campaign.purpose})"
        explanation = explanation_of(decision, rules, at, evaluated_for)
        return Response(ExplanationSerializer(explanation_data(target.contact, explanation)).data)

    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter("status", enum=Target.Status.values, description="Target status"),
            OpenApiParameter("outcome", description="Outcome of the target's calls"),
        ],
        responses=TargetSerializer(many=True),
        summary="The campaign's targets",
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        request=TargetsAddSerializer,
        responses={200: TargetsAddedSerializer},
        summary="Add contacts in bulk",
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None)
    def targets(self, request, pk=None):
        """GET: the campaign's targets (`?status=`, `?outcome=`). POST: add contacts by
        ids, by a filter (state, language, variables) or all of the organisation's; adding
        a contact twice adds nothing."""
        campaign = self.get_object()
        if request.method == "GET":
            return self.targets_list(campaign)
        form = TargetsAddSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        try:
            job = campaign_add_targets(
                campaign_id=campaign.pk,
                contact_ids=values.get("contact_ids"),
                contact_filter=values.get("filter"),
                all_contacts=values["all_contacts"],
                user_id=request.user.pk,
            )
        except InvalidSelection as error:
            field_of = {"contact_filter": "filter", "selection": None}
            raise ValidationError(
                {
                    field_of.get(field, field) or "non_field_errors": message
                    for field, message in error.errors.items()
                }
            ) from None
        except lifecycle.CampaignStateError as error:
            raise Conflict(str(error)) from None
        return self.targeting_job_response(campaign, job)

    def targeting_job_response(self, campaign, job):
        data = {
            "job": job.pk,
            "status": job.status,
            "matched": job.total,
            "processed": job.processed,
            "added": job.added,
            "percent": job.percent,
            "total": campaign.targets.count(),
            "url": self.request.build_absolute_uri(
                reverse("api:campaign-targeting-job", args=[campaign.pk, job.pk])
            ),
        }
        # Large selections run in a worker: 202 until then, with the job to poll.
        finished = job.status in (job.Status.DONE, job.Status.FAILED)
        return Response(data, status=status.HTTP_200_OK if finished else status.HTTP_202_ACCEPTED)

    @extend_schema(responses=TargetsAddedSerializer, summary="A bulk add's progress")
    @action(
        detail=True,
        methods=["get"],
        url_path=r"targeting-jobs/(?P<job_id>[0-9]+)",
        url_name="targeting-job",
        filterset_class=None,
    )
    def targeting_job(self, request, pk=None, job_id=None):
        campaign = self.get_object()
        job = get_object_or_404(campaign.targeting_jobs, pk=job_id)
        return self.targeting_job_response(campaign, job)

    def targets_list(self, campaign):
        targets = campaign.targets.select_related("contact").order_by("pk")
        status_wanted = self.request.query_params.get("status")
        if status_wanted:
            if status_wanted not in Target.Status.values:
                raise ValidationError(
                    {
                        "status": f"{status_wanted!r} is not one of {', '.join(Target.Status.values)}."
                    }
                )
            targets = targets.filter(status=status_wanted)
        if self.request.query_params.get("outcome"):
            targets = targets.filter(outcome=self.request.query_params["outcome"])
        page = self.paginate_queryset(targets)
        return self.get_paginated_response(TargetSerializer(page, many=True).data)
