"""The audience API under /api/: contacts, CSV imports, suppressions and opt-outs.

Access follows Django model permissions (reads need the `view_` permission too). Every
error response has one shape: `{"errors": [{"field": ..., "message": ...}]}`, where field
is null for errors about the request as a whole; an import's row errors have the same
shape plus `row`.

Contact CSV files up to `SYNC_IMPORT_MAX_BYTES` are imported during the request (201, the
finished job); larger ones and every suppression list go to a worker (202, the pending
job): poll `GET /api/imports/<id>/` until `status` is `done` or `failed`.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils import timezone
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView, exception_handler

from campaigns.importing import ImportFileError
from campaigns.models import (
    Consent,
    Contact,
    ImportJob,
    Organization,
    Suppression,
    validate_state,
)
from campaigns.registry import LISTS, RegistryFileError
from campaigns.revocation import consent_revoke
from campaigns.tasks import import_job_create
from voiceops.phones import InvalidPhoneNumber, normalize_phone

SYNC_IMPORT_MAX_BYTES = 256 * 1024


def error_items(detail, field=None) -> list[dict]:
    if isinstance(detail, dict):
        if set(detail) == {"detail"}:
            return error_items(detail["detail"], field)
        items = []
        for name, value in detail.items():
            nested = name if field is None else f"{field}.{name}"
            items += error_items(value, None if name == "non_field_errors" else nested)
        return items
    if isinstance(detail, list):
        return [item for value in detail for item in error_items(value, field)]
    return [{"field": field, "message": str(detail)}]


def errors_in_one_shape(exc, context):
    response = exception_handler(exc, context)
    if response is not None:
        response.data = {"errors": error_items(response.data)}
    return response


class OneErrorShape:
    def get_exception_handler(self):
        return errors_in_one_shape


class ModelPermissions(DjangoModelPermissions):
    """Model permissions, with reads needing the `view_` permission (finance reads no
    contacts)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class HasViewPermissions(BasePermission):
    """For views that are not one model's CRUD: the view lists what the user needs."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(view.required_permissions))


def organization_from(value) -> Organization:
    """The organisation named by id; may be left out when there is only one."""
    if value in (None, ""):
        organizations = list(Organization.objects.all()[:2])
        if len(organizations) == 1:
            return organizations[0]
        raise ValidationError({"organization": "Name the organisation (its id)."})
    try:
        return Organization.objects.get(pk=int(value))
    except (ValueError, Organization.DoesNotExist):
        raise ValidationError({"organization": f"No organisation has the id {value!r}."}) from None


def phone_in(value: str, region: str, field: str = "phone") -> str:
    try:
        return normalize_phone(value, region=region)
    except InvalidPhoneNumber as error:
        raise ValidationError({field: str(error)}) from None


def filtered(rows, params):
    """Rows of `?organization=` and with `?phone=`, the number read in that organisation's
    country (US when none is named)."""
    region = "US"
    if params.get("organization"):
        organization = organization_from(params["organization"])
        rows, region = rows.filter(organization=organization), organization.country
    if params.get("phone"):
        rows = rows.filter(phone=phone_in(params["phone"], region))
    return rows


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


class ContactSerializer(serializers.ModelSerializer):
    consents = ConsentSerializer(many=True, read_only=True)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False
    )

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

    def validate(self, attrs):
        organization = attrs.get("organization") or organization_from(None)
        attrs["organization"] = organization
        attrs["phone"] = phone_in(attrs["phone"], organization.country)
        if Contact.objects.filter(organization=organization, phone=attrs["phone"]).exists():
            raise ValidationError({"phone": f"{attrs['phone']} is already a contact."})
        return attrs


class ContactViewSet(
    OneErrorShape,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Contacts; `?phone=` finds one by number in any format, `?organization=` filters."""

    serializer_class = ContactSerializer
    permission_classes = [ModelPermissions]
    queryset = Contact.objects.prefetch_related("consents").order_by("pk")

    def get_queryset(self):
        return filtered(super().get_queryset(), self.request.query_params)

    def perform_create(self, serializer):
        try:
            serializer.save()
        except IntegrityError:
            raise ValidationError({"phone": "The number was added meanwhile; retry."}) from None


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
        return reverse("api:import-job", args=[job.pk], request=self.context.get("request"))


class ImportJobViewSet(OneErrorShape, viewsets.ReadOnlyModelViewSet):
    serializer_class = ImportJobSerializer
    permission_classes = [ModelPermissions]
    queryset = ImportJob.objects.order_by("-pk")


class ContactImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    organization = serializers.CharField(required=False, allow_blank=True)


def job_response(job: ImportJob, request, *, finished_status: int) -> Response:
    data = ImportJobSerializer(job, context={"request": request}).data
    if job.status == ImportJob.Status.FAILED:
        return Response(
            {"errors": [{"field": "file", "message": job.message}], "job": data},
            status=status.HTTP_400_BAD_REQUEST,
        )
    code = finished_status if job.is_finished else status.HTTP_202_ACCEPTED
    return Response(data, status=code, headers={"Location": data["url"]})


class ContactImportView(OneErrorShape, APIView):
    """POST a CSV file (multipart field `file`) of contacts and consent."""

    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [HasViewPermissions]
    required_permissions = ["campaigns.add_contact", "campaigns.add_importjob"]

    def post(self, request):
        form = ContactImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        try:
            job = import_job_create(
                organization_id=organization_from(form.validated_data.get("organization")).pk,
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
    organization = serializers.CharField(required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=[(source, source) for source in LISTS])
    state = serializers.CharField(required=False, allow_blank=True, max_length=2, default="")
    synced_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    replaces_previous = serializers.BooleanField(default=False)


class RegistryImportView(OneErrorShape, APIView):
    """POST a suppression list file (one number per line); always imported by a worker."""

    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [HasViewPermissions]
    required_permissions = ["campaigns.add_suppression", "campaigns.add_importjob"]

    def post(self, request):
        form = RegistryImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        try:
            job = import_job_create(
                organization_id=organization_from(values.get("organization")).pk,
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


class SuppressionSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False
    )
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


class SuppressionListCreate(OneErrorShape, generics.ListCreateAPIView):
    """Suppressions; `?phone=` filters. Creating an `opt_out` revokes the number's consent
    too (the same service as a spoken opt-out); `internal` only lists the number."""

    serializer_class = SuppressionSerializer
    permission_classes = [ModelPermissions]
    queryset = Suppression.objects.order_by("-pk")

    def get_queryset(self):
        return filtered(super().get_queryset(), self.request.query_params)

    def create(self, request, *args, **kwargs):
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        organization = values.get("organization") or organization_from(None)
        phone = phone_in(values["phone"], organization.country)
        if values["source"] == Suppression.Source.OPT_OUT:
            if not request.user.has_perm("campaigns.change_consent"):
                raise PermissionDenied(
                    "Recording an opt-out revokes consent: it needs change_consent."
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


class OptOutSerializer(serializers.Serializer):
    organization = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class OptOutView(OneErrorShape, APIView):
    """POST a number that opted out: its consents are revoked and it is suppressed for
    every campaign of the organisation at once. Safe to repeat."""

    permission_classes = [HasViewPermissions]
    required_permissions = ["campaigns.change_consent", "campaigns.add_suppression"]

    def post(self, request):
        form = OptOutSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        organization = organization_from(form.validated_data.get("organization"))
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
