"""The API side of scoping: every view's queryset goes through `scoped(..., tenant_of(request))`,
objects are created in the tenant's organisation, and related objects are chosen among the
organisation's own (another organisation's id reads as "does not exist")."""

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from campaigns.models import Organization
from tenancy.scoping import scoped, tenant_of


def other_organization(tenant, organization_id) -> str:
    return (
        f"You act in {tenant.organization} (id {tenant.organization_id}); "
        f"organisation {organization_id} is not yours to read or write here."
    )


def organization_from_query(request) -> int | None:
    """`?organization=` narrows a superuser's lists; for everyone else it may only name the
    organisation they act in."""
    value = request.query_params.get("organization")
    if value in (None, ""):
        return None
    try:
        organization_id = int(value)
    except ValueError:
        raise ValidationError({"organization": f"{value!r} is not an organisation id."}) from None
    tenant = tenant_of(request)
    if not tenant.sees_every_organization and organization_id != tenant.organization_id:
        raise ValidationError({"organization": other_organization(tenant, organization_id)})
    return organization_id


class ScopedQuerysetMixin:
    """`get_queryset` is the class queryset narrowed to the tenant (and, for superusers,
    to `?organization=`); another organisation's object then answers 404."""

    organization_lookup = "organization"

    def get_queryset(self):
        queryset = scoped(super().get_queryset(), tenant_of(self.request))
        organization_id = organization_from_query(self.request)
        if organization_id is not None:
            queryset = queryset.filter(**{self.organization_lookup: organization_id})
        return queryset


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object chosen by id among those of the asker's organisation."""

    def get_queryset(self) -> QuerySet:
        return scoped(super().get_queryset(), tenant_of(self.context["request"]))


class OrganizationField(serializers.PrimaryKeyRelatedField):
    """The object's organisation: the one the request acts in. Naming another is refused;
    a superuser acting in every organisation names it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Organization.objects.all())
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "Set from the API key or the session's current organisation; naming another "
            "organisation is refused.",
        )
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        # The choices a form shows (the browsable API): the asker's organisations only.
        return scoped(super().get_queryset(), tenant_of(self.context["request"]))

    def to_internal_value(self, data):
        tenant = tenant_of(self.context["request"])
        if not tenant.sees_every_organization:
            if str(data) != str(tenant.organization_id):
                raise ValidationError(other_organization(tenant, data))
            return tenant.organization
        return super().to_internal_value(data)


class InOrganizationSerializer(serializers.ModelSerializer):
    """Puts new objects in the tenant's organisation and keeps existing ones where they are."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None:
            chosen = attrs.pop("organization", None)
            if chosen is not None and chosen.pk != self.instance.organization_id:
                raise ValidationError(
                    {"organization": "An object cannot move to another organisation."}
                )
            return attrs
        tenant = tenant_of(self.context["request"])
        attrs.setdefault("organization", tenant.organization)
        if attrs["organization"] is None:
            raise ValidationError(
                {"organization": "Name the organisation (its id): you act in every one."}
            )
        return attrs
