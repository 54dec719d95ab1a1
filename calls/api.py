"""Phone numbers and calls under /api/.

A phone number shows the two URLs to paste into the carrier's console for inbound calls
(voice and status webhooks). A call shows its transcript, its timeline (events) and the
compliance record it was placed under; its costs, token usage and ledger are present only
for roles that read costs (finance and admin), and absent (not null) for operators.
"""

from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from agents.models import Agent
from calls.api_latency import CallLatencySerializer
from calls.latency import call_latency_summary
from calls.models import (
    AnsweredBy,
    Call,
    CallEvent,
    CallStatus,
    CostEntry,
    PhoneNumber,
    Turn,
)
from calls.public_urls import public_url
from tenancy.api_scoping import (
    InOrganizationSerializer,
    OrganizationField,
    ScopedQuerysetMixin,
    ScopedRelatedField,
)
from tenancy.scoping import tenant_of
from voiceops.api_errors import Conflict
from voiceops.labels import outcome_label


class WebhooksSerializer(serializers.Serializer):
    voice_url = serializers.URLField(help_text="'A call comes in' webhook (HTTP POST).")
    status_callback_url = serializers.URLField(help_text="'Call status changes' (HTTP POST).")


class PhoneNumberSerializer(InOrganizationSerializer):
    organization = OrganizationField()
    inbound_agent = ScopedRelatedField(
        queryset=Agent.objects.all(), required=False, allow_null=True
    )
    webhooks = serializers.SerializerMethodField(
        help_text="The URLs to paste into the carrier's console for this number."
    )

    class Meta:
        model = PhoneNumber
        fields = [
            "id",
            "organization",
            "number",
            "label",
            "is_caller_id",
            "is_inbound",
            "inbound_agent",
            "webhooks",
        ]

    @extend_schema_field(WebhooksSerializer)
    def get_webhooks(self, number) -> dict:
        return {
            "voice_url": public_url("calls:inbound"),
            "status_callback_url": public_url("calls:inbound-status"),
        }

    def validate(self, attrs):
        attrs = super().validate(attrs)

        def current(name, default=None):
            return attrs.get(name, getattr(self.instance, name, default))

        if not current("is_caller_id", True) and not current("is_inbound", False):
            raise ValidationError(
                {"is_caller_id": "A number is an outbound caller ID, an inbound line, or both."}
            )
        agent = current("inbound_agent")
        if current("is_inbound", False) and agent is None:
            raise ValidationError({"inbound_agent": "An inbound line needs an agent to answer."})
        organization = attrs.get("organization") or self.instance.organization
        if agent is not None and agent.organization_id != organization.pk:
            raise ValidationError({"inbound_agent": "The agent belongs to another organisation."})
        return attrs


class PhoneNumberViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
    """The organisation's numbers: everyone reads them, admins add, change and remove them."""

    serializer_class = PhoneNumberSerializer
    queryset = PhoneNumber.objects.order_by("pk")
    filterset_fields = ["is_caller_id", "is_inbound"]


class TurnSerializer(serializers.ModelSerializer):
    class Meta:
        model = Turn
        fields = [
            "speaker",
            "text",
            "started_ms",
            "ended_ms",
            "interrupted",
            "response_sent_ms",
            "response_played_ms",
        ]


class CallEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallEvent
        fields = ["at", "kind", "from_status", "to_status", "data"]


class CostEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = CostEntry
        fields = ["component", "quantity", "unit", "unit_price", "amount", "currency"]


class ComplianceRecordSerializer(serializers.Serializer):
    ruleset = serializers.CharField(source="compliance_ruleset")
    zones = serializers.JSONField(source="compliance_zones")
    states = serializers.JSONField(source="compliance_states")


COST_FIELDS = [
    "cost_telephony",
    "cost_model",
    "cost_analysis",
    "cost_total",
    "currency",
    "priced_at",
    "audio_input_tokens",
    "audio_input_cached_tokens",
    "audio_output_tokens",
    "text_input_tokens",
    "text_input_cached_tokens",
    "text_output_tokens",
    "analysis_input_tokens",
    "analysis_output_tokens",
]
SUMMARY_FIELDS = [
    "id",
    "direction",
    "campaign",
    "target",
    "attempt",
    "agent",
    "from_number",
    "to_number",
    "status",
    "answered_by",
    "answered_by_label",
    "outcome",
    "outcome_label",
    "language",
    "hangup_reason",
    "created_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "first_audio_sent_ms",
    "is_abandoned",
]


class CostFieldsOnlyForCostReaders:
    """Drops the cost fields (and the ledger) for a request whose role does not read
    costs, so that they are absent, not null."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not tenant_of(request).reads_costs:
            for name in [*COST_FIELDS, "cost_entries"]:
                fields.pop(name, None)
        return fields


class CallSerializer(CostFieldsOnlyForCostReaders, serializers.ModelSerializer):
    campaign = serializers.IntegerField(
        source="target.campaign_id", read_only=True, allow_null=True
    )
    answered_by_label = serializers.CharField(
        source="get_answered_by_display",
        read_only=True,
        help_text="Who answered, in words: Person, Answering machine, Fax machine…",
    )
    outcome_label = serializers.SerializerMethodField(help_text="The outcome, in words.")
    language = serializers.CharField(
        read_only=True, help_text="The agent's language the call was held in (BCP 47)."
    )

    def get_outcome_label(self, call: Call) -> str:
        return outcome_label(call.outcome) if call.outcome else ""

    class Meta:
        model = Call
        fields = [*SUMMARY_FIELDS, *COST_FIELDS]
        read_only_fields = fields


class CallDetailSerializer(CallSerializer):
    turns = TurnSerializer(many=True, read_only=True, help_text="The transcript, in order.")
    events = CallEventSerializer(many=True, read_only=True, help_text="The call's timeline.")
    compliance = ComplianceRecordSerializer(source="*", read_only=True)
    latency = serializers.SerializerMethodField(
        help_text="First audio after the answer, and each turn's latency (ms)."
    )
    cost_entries = CostEntrySerializer(
        many=True, read_only=True, help_text="The cost ledger (finance and admin roles only)."
    )

    class Meta:
        model = Call
        fields = [
            *SUMMARY_FIELDS,
            "summary",
            "sentiment",
            "result",
            "compliance",
            "latency",
            "turns",
            "events",
            *COST_FIELDS,
            "cost_entries",
        ]
        read_only_fields = fields

    @extend_schema_field(CallLatencySerializer)
    def get_latency(self, call) -> dict:
        return CallLatencySerializer(call_latency_summary(call)).data


class CallFilter(filters.FilterSet):
    campaign = filters.NumberFilter(field_name="target__campaign")
    status = filters.MultipleChoiceFilter(choices=CallStatus.choices)
    outcome = filters.CharFilter()
    direction = filters.ChoiceFilter(choices=Call.Direction.choices)
    answered_by = filters.ChoiceFilter(choices=AnsweredBy.choices)
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Call
        fields = [
            "campaign",
            "status",
            "outcome",
            "direction",
            "answered_by",
            "created_after",
            "created_before",
        ]


class AnalysisQueuedSerializer(serializers.Serializer):
    call = serializers.IntegerField()
    status = serializers.CharField(help_text="`queued`: poll the call until analysed_at changes.")
    analysed_at = serializers.DateTimeField(
        allow_null=True, help_text="The analysis it replaces, if any."
    )


class CallViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Calls, newest first; the detail adds the transcript, the timeline, the compliance
    record and (finance and admin roles) the cost ledger."""

    queryset = Call.objects.select_related("target").order_by("-created_at", "-pk")
    filterset_class = CallFilter

    @property
    def required_permissions(self):
        # Re-running an analysis spends money on the model: operators and admins, not
        # finance (read-only).
        if getattr(self, "action", None) == "analyze":
            return {"*": "campaigns.change_campaign"}
        return None

    def get_serializer_class(self):
        if self.action == "analyze":
            return AnalysisQueuedSerializer
        return CallDetailSerializer if self.action == "retrieve" else CallSerializer

    @extend_schema(request=None, responses={202: AnalysisQueuedSerializer})
    @action(detail=True, methods=["post"])
    def analyze(self, request, pk=None):
        """Run the post-call analysis again (queue `postcall`): it replaces the call's
        analysis, its survey answers from the analysis and its analysis ledger lines."""
        from calls.tasks import analyze_call

        call = self.get_object()
        if call.answered_at is None or call.status != CallStatus.COMPLETED:
            raise Conflict("Only a completed, answered call has a conversation to analyse.")
        transaction.on_commit(lambda: analyze_call.delay(call.pk))
        return Response(
            {"call": call.pk, "status": "queued", "analysed_at": call.analysed_at},
            status=status.HTTP_202_ACCEPTED,
        )

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("turns", "events", "cost_entries")
        return queryset
