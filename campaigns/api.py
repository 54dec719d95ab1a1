"""The audience API under /api/: contacts (and why each is or is not called), CSV imports,
suppressions and opt-outs.

Every request acts in one organisation (`tenancy.scoping`): lists hold only its rows,
another organisation's id answers 404, and naming another organisation is refused. Roles
decide what may be done (`tenancy.api_auth.RolePermission`). Errors have one shape
(`voiceops.api_errors`); an import's row errors have the same shape plus `row`.

Contact CSV files up to `SYNC_IMPORT_MAX_BYTES` are imported during the request (201, the
finished job); larger ones and every suppression list go to a worker (202, the pending
job): poll `GET /api/imports/<id>/` until `status` is `done` or `failed`.
"""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from campaigns.admin_compliance import contact_explanation_for
from campaigns.importing import ImportFileError
from campaigns.models import (
    Campaign,
    Consent,
    Contact,
    ImportJob,
    Organization,
    Purpose,
    RegistrySync,
    Suppression,
    validate_state,
)
from campaigns.registry import LISTS, RegistryFileError
from campaigns.revocation import consent_revoke
from campaigns.tasks import import_job_create
from tenancy.api_auth import missing_role_message
from tenancy.api_scoping import (
    InOrganizationSerializer,
    OrganizationField,
    ScopedQuerysetMixin,
    ScopedRelatedField,
)
from tenancy.scoping import tenant_of
from voiceops.api_errors import Conflict
from voiceops.phones import InvalidPhoneNumber, normalize_phone

SYNC_IMPORT_MAX_BYTES = 256 * 1024


def organization_of(request, value=None) -> Organization:
    """The organisation a write acts in: the tenant's. A superuser acting in every
    organisation names it; anyone else naming another one is refused."""
    field = OrganizationField()
    field.bind("organization", serializers.Serializer(context={"request": request}))
    if value not in (None, ""):
        try:
            return field.to_internal_value(value)
        except ValidationError as error:
            raise ValidationError({"organization": error.detail}) from None
    organization = tenant_of(request).organization
    if organization is None:
        raise ValidationError(
            {"organization": "Name the organisation (its id): you act in every one."}
        )
    return organization


def phone_in(value: str, region: str, field: str = "phone") -> str:
    try:
        return normalize_phone(value, region=region)
    except InvalidPhoneNumber as error:
        raise ValidationError({field: str(error)}) from None


class PhoneFilter(django_filters.CharFilter):
    """A number in any format, read in the asker's organisation's country (US otherwise)."""

    def filter(self, queryset, value):
        if not value:
            return queryset
        organization = tenant_of(self.parent.request).organization
        region = organization.country if organization is not None else "US"
        return queryset.filter(phone=phone_in(value, region))


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = [
            "purpose",
            "is_written",
            "seller_named",
            "source",
            "evidence",
            "captured_at",
            "revoked_at",
            "revoked_via",
        ]
        read_only_fields = ["revoked_at", "revoked_via"]


class ContactSerializer(InOrganizationSerializer):
    consents = ConsentSerializer(
        many=True,
        required=False,
        help_text="Consent per purpose. Writing adds or updates the purposes listed and keeps "
        "the others; a revoked consent stays revoked (opt-outs revoke).",
    )
    organization = OrganizationField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "organization",
            "phone",
            "name",
            "state",
            "postal_code",
            "language",
            "variables",
            "consents",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # uniqueness is checked on the normalised number below
        extra_kwargs = {"phone": {"validators": []}, "state": {"validators": []}}

    def validate_state(self, value: str) -> str:
        try:
            validate_state(value.upper())
        except DjangoValidationError as error:
            raise ValidationError(error.messages) from None
        return value.upper()

    def validate_variables(self, value):
        if not isinstance(value, dict):
            raise ValidationError("Variables must be an object of named values.")
        return value

    def validate_consents(self, value):
        purposes = [consent["purpose"] for consent in value]
        repeated = sorted({purpose for purpose in purposes if purposes.count(purpose) > 1})
        if repeated:
            raise ValidationError(f"One consent per purpose; repeated: {', '.join(repeated)}.")
        return value

    @transaction.atomic
    def create(self, validated_data):
        consents = validated_data.pop("consents", [])
        contact = super().create(validated_data)
        self.consents_save(contact, consents)
        return contact

    @transaction.atomic
    def update(self, instance, validated_data):
        consents = validated_data.pop("consents", [])
        contact = super().update(instance, validated_data)
        self.consents_save(contact, consents)
        return contact

    def consents_save(self, contact: Contact, consents: list[dict]) -> None:
        for consent in consents:
            fields = {name: value for name, value in consent.items() if name != "purpose"}
            Consent.objects.update_or_create(
                contact=contact, purpose=consent["purpose"], defaults=fields
            )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        organization = attrs.get("organization") or self.instance.organization
        if "phone" in attrs:
            attrs["phone"] = phone_in(attrs["phone"], organization.country)
            taken = Contact.objects.filter(organization=organization, phone=attrs["phone"])
            if self.instance is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                raise ValidationError({"phone": f"{attrs['phone']} is already a contact."})
        return attrs


class ContactFilter(django_filters.FilterSet):
    phone = PhoneFilter(help_text="A number in any format.")
    state = django_filters.CharFilter(lookup_expr="iexact", help_text="USPS code, e.g. FL.")
    language = django_filters.CharFilter()
    campaign = django_filters.NumberFilter(
        field_name="targets__campaign", help_text="Contacts targeted by this campaign."
    )

    class Meta:
        model = Contact
        fields = ["phone", "state", "language", "campaign"]


class ExplainQuerySerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False,
        help_text="ISO-8601 instant; without a zone it is read as UTC. Defaults to now.",
    )
    campaign = ScopedRelatedField(
        queryset=Campaign.objects.all(),
        required=False,
        help_text="Evaluate for this campaign (its window, caller ID and budget too). "
        "Defaults to a campaign the contact is in, else the organisation's latest.",
    )
    purpose = serializers.ChoiceField(
        choices=Purpose.choices,
        required=False,
        help_text="Without a campaign: the purpose alone; with one: instead of its purpose.",
    )

    def validate_at(self, value):
        if timezone.is_naive(value):
            return value.replace(tzinfo=UTC)
        return value


class RuleAnswerSerializer(serializers.Serializer):
    name = serializers.CharField()
    verdict = serializers.ChoiceField(choices=["allow", "defer", "deny"])
    reason = serializers.CharField(allow_null=True)
    next_allowed_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()


class LocalInstantSerializer(serializers.Serializer):
    zone = serializers.CharField()
    local = serializers.CharField(
        help_text="The next lawful instant as an ISO-8601 time in that zone's offset."
    )


class ExplanationSerializer(serializers.Serializer):
    contact = serializers.IntegerField()
    at = serializers.DateTimeField()
    evaluated_for = serializers.CharField()
    verdict = serializers.ChoiceField(choices=["allow", "defer", "deny"])
    reason = serializers.CharField(allow_null=True)
    detail = serializers.CharField()
    next_allowed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="For `defer`: the earliest instant every rule allows; null otherwise.",
    )
    next_allowed_local = LocalInstantSerializer(many=True)
    ruleset = serializers.CharField()
    zones = serializers.ListField(child=serializers.CharField())
    states = serializers.ListField(child=serializers.CharField())
    rules = RuleAnswerSerializer(many=True, help_text="Every rule's answer on its own.")


def explanation_data(contact: Contact, explanation) -> dict:
    decision = explanation.decision
    return {
        "contact": contact.pk,
        "at": explanation.at,
        "evaluated_for": explanation.evaluated_for,
        "verdict": str(decision.verdict),
        "reason": str(decision.reason) if decision.reason else None,
        "detail": decision.detail,
        "next_allowed_at": decision.next_allowed_at,
        "next_allowed_local": [
            {"zone": instant.zone, "local": instant.local.isoformat()}
            for instant in explanation.local_next
        ],
        "ruleset": decision.ruleset,
        "zones": list(decision.zones),
        "states": list(decision.states),
        "rules": [
            {
                "name": rule.name,
                "verdict": str(rule.verdict),
                "reason": str(rule.reason) if rule.reason else None,
                "next_allowed_at": rule.next_allowed_at,
                "detail": rule.detail,
            }
            for rule in explanation.rules
        ],
    }


class ContactViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
    """The organisation's contacts. `?phone=` finds one by number in any format."""

    serializer_class = ContactSerializer
    queryset = Contact.objects.prefetch_related("consents").order_by("pk")
    filterset_class = ContactFilter

    @property
    def required_permissions(self):
        if self.action == "explain":
            return {"*": "campaigns.view_contact"}
        return None

    def perform_create(self, serializer):
        try:
            serializer.save()
        except IntegrityError:
            raise ValidationError({"phone": "The number was added meanwhile; retry."}) from None

    def perform_update(self, serializer):
        try:
            serializer.save()
        except IntegrityError:
            raise ValidationError({"phone": "The number was added meanwhile; retry."}) from None

    @extend_schema(
        parameters=[ExplainQuerySerializer],
        responses=ExplanationSerializer,
        summary="Why the contact is or is not called at an instant",
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def explain(self, request, pk=None):
        """Every compliance rule's answer, the verdict and the next lawful instant, as the
        admin's compliance explanation shows them."""
        contact = self.get_object()
        query = ExplainQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        at = query.validated_data.get("at") or timezone.now()
        campaign = query.validated_data.get("campaign")
        purpose = query.validated_data.get("purpose", "")
        if campaign is not None and campaign.organization_id != contact.organization_id:
            raise ValidationError({"campaign": "The campaign belongs to another organisation."})
        if campaign is None and not purpose:
            campaigns = Campaign.objects.filter(organization_id=contact.organization_id)
            campaigns = campaigns.order_by("-pk")
            campaign = campaigns.filter(targets__contact=contact).first() or campaigns.first()
        explanation = contact_explanation_for(contact, campaign=campaign, purpose=purpose, at=at)
        return Response(ExplanationSerializer(explanation_data(contact, explanation)).data)


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "kind",
            "status",
            "organization",
            "file_name",
            "source",
            "state",
            "synced_at",
            "replaces_previous",
            "total",
            "processed",
            "created",
            "updated",
            "unchanged",
            "removed",
            "error_count",
            "errors",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, job) -> str:
        return reverse("api:import-job-detail", args=[job.pk], request=self.context.get("request"))


class ImportJobViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Import jobs of contact files and suppression lists, newest first, with progress."""

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.order_by("-pk")
    filterset_fields = ["kind", "status"]


class ContactImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a phone column; see the README.")
    organization = serializers.CharField(
        required=False, allow_blank=True, help_text="Only the organisation you act in."
    )


def job_response(job: ImportJob, request, *, finished_status: int) -> Response:
    data = ImportJobSerializer(job, context={"request": request}).data
    if job.status == ImportJob.Status.FAILED:
        return Response(
            {"errors": [{"field": "file", "message": job.message}], "job": data},
            status=status.HTTP_400_BAD_REQUEST,
        )
    code = finished_status if job.is_finished else status.HTTP_202_ACCEPTED
    return Response(data, status=code, headers={"Location": data["url"]})


class ContactImportView(APIView):
    """POST a CSV file (multipart field `file`) of contacts and consent."""

    parser_classes = [MultiPartParser, FormParser]
    required_permissions = {"*": "campaigns.add_importjob"}

    @extend_schema(
        request=ContactImportSerializer,
        responses={201: ImportJobSerializer, 202: ImportJobSerializer},
    )
    def post(self, request):
        form = ContactImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        try:
            job = import_job_create(
                organization_id=organization_of(
                    request, form.validated_data.get("organization")
                ).pk,
                kind=ImportJob.Kind.CONTACTS,
                upload=upload,
                user_id=request.user.pk,
                run_now=upload.size <= SYNC_IMPORT_MAX_BYTES,
            )
        except ImportFileError as error:
            raise ValidationError({"file": str(error)}) from None
        return job_response(job, request, finished_status=status.HTTP_201_CREATED)


class RegistryImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    organization = serializers.CharField(
        required=False, allow_blank=True, help_text="Only the organisation you act in."
    )
    source = serializers.ChoiceField(choices=[(source, source) for source in LISTS])
    state = serializers.CharField(required=False, allow_blank=True, max_length=2, default="")
    synced_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    replaces_previous = serializers.BooleanField(default=False)


class RegistryImportView(APIView):
    """POST a suppression list file (one number per line); always imported by a worker."""

    parser_classes = [MultiPartParser, FormParser]
    required_permissions = {"*": "campaigns.add_suppression"}

    @extend_schema(request=RegistryImportSerializer, responses={202: ImportJobSerializer})
    def post(self, request):
        form = RegistryImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        try:
            job = import_job_create(
                organization_id=organization_of(request, values.get("organization")).pk,
                kind=ImportJob.Kind.SUPPRESSIONS,
                upload=values["file"],
                user_id=request.user.pk,
                source=values["source"],
                state=values["state"].upper(),
                synced_at=values["synced_at"],
                replaces_previous=values["replaces_previous"],
            )
        except RegistryFileError as error:
            raise ValidationError({"source": str(error)}) from None
        return job_response(job, request, finished_status=status.HTTP_201_CREATED)


class SuppressionSerializer(InOrganizationSerializer):
    organization = OrganizationField()
    source = serializers.ChoiceField(
        choices=[Suppression.Source.OPT_OUT, Suppression.Source.INTERNAL],
        default=Suppression.Source.INTERNAL,
    )

    class Meta:
        model = Suppression
        fields = ["id", "organization", "phone", "source", "state", "reason", "added_at"]
        read_only_fields = ["state", "added_at"]
        validators = []
        extra_kwargs = {"phone": {"validators": []}}


class SuppressionFilter(django_filters.FilterSet):
    phone = PhoneFilter(help_text="A number in any format.")

    class Meta:
        model = Suppression
        fields = ["phone", "source", "state"]


class SuppressionListCreate(ScopedQuerysetMixin, generics.ListCreateAPIView):
    """Suppressions; `?phone=` filters. Creating an `opt_out` revokes the number's consent
    too (the same service as a spoken opt-out); `internal` only lists the number."""

    serializer_class = SuppressionSerializer
    queryset = Suppression.objects.order_by("-pk")
    filterset_class = SuppressionFilter

    def create(self, request, *args, **kwargs):
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        organization = values["organization"]
        phone = phone_in(values["phone"], organization.country)
        if values["source"] == Suppression.Source.OPT_OUT:
            tenant = tenant_of(request)
            if not tenant.has_perm("campaigns.change_consent"):
                raise PermissionDenied(
                    "Recording an opt-out revokes consent: "
                    + missing_role_message("campaigns.change_consent", tenant)
                )
            consent_revoke(
                organization_id=organization.pk,
                phone=phone,
                via=Consent.RevokedVia.API,
                at=timezone.now(),
                reason=values.get("reason", ""),
            )
        else:
            Suppression.objects.get_or_create(
                organization=organization,
                phone=phone,
                source=Suppression.Source.INTERNAL,
                state="",
                defaults={"reason": values.get("reason", "")},
            )
        suppression = Suppression.objects.get(
            organization=organization, phone=phone, source=values["source"], state=""
        )
        return Response(self.get_serializer(suppression).data, status=status.HTTP_201_CREATED)


class SuppressionDetail(ScopedQuerysetMixin, generics.RetrieveDestroyAPIView):
    """One suppression. Only an internal listing can be deleted: an opt-out records the
    person's own request, and registry numbers follow their list's next import."""

    serializer_class = SuppressionSerializer
    queryset = Suppression.objects.all()
    conflict_actions = {"destroy"}

    def perform_destroy(self, suppression):
        if suppression.source != Suppression.Source.INTERNAL:
            raise Conflict(
                f"{suppression.phone} is suppressed as {suppression.get_source_display()!r}; "
                "only internal listings can be deleted."
            )
        suppression.delete()


class RegistrySyncSerializer(serializers.ModelSerializer):
    class Meta:
        model = RegistrySync
        fields = ["id", "source", "state", "synced_at", "imported_at", "numbers"]
        read_only_fields = fields


class RegistrySyncViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """When each do-not-call registry copy was last synced (calls are deferred with
    `stale_registry` once a copy is too old); newest first."""

    serializer_class = RegistrySyncSerializer
    queryset = RegistrySync.objects.order_by("-synced_at", "-pk")
    filterset_fields = ["source", "state"]


class OptOutSerializer(serializers.Serializer):
    organization = serializers.CharField(
        required=False, allow_blank=True, help_text="Only the organisation you act in."
    )
    phone = serializers.CharField(help_text="The number, in any format.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class OptOutResultSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="E.164")
    consents_revoked = serializers.IntegerField()
    suppression_created = serializers.BooleanField()


class OptOutView(APIView):
    """POST a number that opted out: its consents are revoked and it is suppressed for
    every campaign of the organisation at once. Safe to repeat (201 the first time, then
    200)."""

    required_permissions = {"*": "campaigns.change_consent"}

    @extend_schema(
        request=OptOutSerializer,
        responses={201: OptOutResultSerializer, 200: OptOutResultSerializer},
    )
    def post(self, request):
        form = OptOutSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        organization = organization_of(request, form.validated_data.get("organization"))
        phone = phone_in(form.validated_data["phone"], organization.country)
        revocation = consent_revoke(
            organization_id=organization.pk,
            phone=phone,
            via=Consent.RevokedVia.API,
            at=timezone.now(),
            reason=form.validated_data["reason"],
        )
        return Response(
            {
                "phone": phone,
                "consents_revoked": revocation.consents_revoked,
                "suppression_created": revocation.suppression_created,
            },
            status=status.HTTP_201_CREATED if revocation.suppression_created else 200,
        )
