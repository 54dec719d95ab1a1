"""`{% organization_switcher %}`: the admin header's current organisation and switcher."""

from django import template

from tenancy.organization_switch import EVERY_ORGANIZATION
from tenancy.scoping import tenant_of

register = template.Library()


@register.inclusion_tag("admin/tenancy/organization_switcher.html", takes_context=True)
def organization_switcher(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"shown": False}
    tenant = tenant_of(request)
    return {
        "shown": True,
        "current": tenant.organization,
        "sees_every_organization": tenant.sees_every_organization,
        "choices": tenant.organizations
        if len(tenant.organizations) > 1 or tenant.is_superuser
        else (),
        "every_organization": EVERY_ORGANIZATION if tenant.is_superuser else None,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
