"""Agents under /api/agents/: what the AI says and may do on a call, per organisation."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from agents.models import Agent
from tenancy.api_scoping import InOrganizationSerializer, OrganizationField, ScopedQuerysetMixin


class AgentSerializer(InOrganizationSerializer):
    organization = OrganizationField()

    class Meta:
        model = Agent
        fields = [
            "id",
            "organization",
            "name",
            "instructions",
            "greeting",
            "voice",
            "model",
            "language",
            "language_variants",
            "turn_detection",
            "barge_in",
            "barge_in_min_speech_ms",
            "tools",
            "voicemail_message",
            "transfer_number",
            "opt_out_digit",
            "max_call_seconds",
            "max_cost_per_call",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        validators = []  # the name's uniqueness is checked per organisation below

    def validate(self, attrs):
        attrs = super().validate(attrs)
        organization_id = (attrs.get("organization") or self.instance.organization).pk
        name = attrs.get("name", getattr(self.instance, "name", None))
        same_name = Agent.objects.filter(organization_id=organization_id, name=name)
        if self.instance is not None:
            same_name = same_name.exclude(pk=self.instance.pk)
        if same_name.exists():
            raise ValidationError({"name": f"An agent is already named {name!r}."})
        if "opt_out_digit" in attrs and attrs["opt_out_digit"] not in "0123456789*#":
            raise ValidationError({"opt_out_digit": "One key of the keypad: 0-9, * or #."})
        agent = Agent(
            tools=attrs.get("tools", getattr(self.instance, "tools", [])),
            transfer_number=attrs.get(
                "transfer_number", getattr(self.instance, "transfer_number", "")
            ),
            language=attrs.get("language", getattr(self.instance, "language", "en")),
            language_variants=attrs.get(
                "language_variants", getattr(self.instance, "language_variants", {})
            ),
        )
        try:
            agent.clean()
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return attrs


class AgentViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
    """The organisation's agents. Deleting one that campaigns, calls or numbers use is
    refused (409)."""

    serializer_class = AgentSerializer
    queryset = Agent.objects.order_by("pk")
    filterset_fields = {"name": ["exact", "icontains"], "language": ["exact"], "voice": ["exact"]}
