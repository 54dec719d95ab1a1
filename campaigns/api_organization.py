"""`/api/organization/`: the organisation the request acts in. Every role reads it; admins
change how it appears on calls (its registered name, callback number, time zone, country
and currency), its carrier account's capacity and pacing, and recording and retention.
Budgets are not set here."""

from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from campaigns.models import Organization
from tenancy.scoping import scoped, tenant_of
from voiceops.phones import InvalidPhoneNumber, normalize_phone


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "id", "name", "callback_number", "time_zone", "country", "currency",
            "carrier_account_sid", "line_capacity", "inbound_reserve",
            "account_calls_per_second", "record_calls", "retention_days", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"callback_number": {"validators": []}}

    def validate_callback_number(self, value: str) -> str:
        if not value:
            return value
        country = self.initial_data.get("country") or self.instance.country
        try:
            return normalize_phone(value, region=country)
        except InvalidPhoneNumber as error:
            raise ValidationError(str(error)) from None

    def validate(self, attrs):
        capacity = attrs.get("line_capacity", getattr(self.instance, "line_capacity", 0))
        reserve = attrs.get("inbound_reserve", getattr(self.instance, "inbound_reserve", 0))
        if reserve > capacity:
            raise ValidationError(
                {
                    "inbound_reserve": f"{reserve} lines kept for inbound calls is more than "
                    f"the {capacity} concurrent calls the account carries."
                }
            )
        rate = attrs.get("account_calls_per_second")
        if rate is not None and rate <= 0:
            raise ValidationError(
                {"account_calls_per_second": "The carrier's rate must be above 0 calls a second."}
            )
        return attrs

    def validate_country(self, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise ValidationError(f"{value!r} is not a two-letter country code such as 'US'.")
        return value.upper()

    def validate_currency(self, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValidationError(f"{value!r} is not a three-letter currency code such as 'USD'.")
        return value.upper()


class CurrentOrganizationView(generics.RetrieveUpdateAPIView):
    """The organisation this key or session acts in."""

    serializer_class = OrganizationSerializer
    queryset = Organization.objects.all()
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        tenant = tenant_of(self.request)
        if tenant.organization is None:
            raise ValidationError(
                {"organization": "You act in every organisation; pick one in the admin first."}
            )
        organization = scoped(self.get_queryset(), tenant).get(pk=tenant.organization_id)
        self.check_object_permissions(self.request, organization)
        return organization
