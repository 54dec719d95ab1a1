"""The organisation a command names, with a clear error when there is none."""

from django.core.management.base import CommandError

from campaigns.models import Organization
from tenancy.roles import Role


def organization_named(name: str) -> Organization:
    try:
        return Organization.objects.get(name=name)
    except Organization.DoesNotExist:
        known = ", ".join(repr(o) for o in Organization.objects.values_list("name", flat=True)[:10])
        raise CommandError(
            f"No organisation is named {name!r}." + (f" Known: {known}." if known else "")
        ) from None


ROLE_CHOICES = [role.value for role in Role]
