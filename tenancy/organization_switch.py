"""The admin header's organisation switcher: the current organisation's name, and for
users who act in several (and superusers) a choice among them, kept in the session."""

from django.http import Http404, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tenancy.scoping import SESSION_KEY, tenant_for_user, tenant_of

EVERY_ORGANIZATION = "all"


@require_POST
def organization_switch_view(request):
    """Act in the posted organisation from now on (`all`: every one, superusers only).
    An organisation the user may not act in answers 404, as if it did not exist."""
    tenant = tenant_of(request)
    chosen = request.POST.get("organization", "")
    if chosen == EVERY_ORGANIZATION and tenant.is_superuser:
        request.session.pop(SESSION_KEY, None)
    else:
        allowed = {str(organization.pk): organization.pk for organization in tenant.organizations}
        if chosen not in allowed:
            raise Http404("No such organisation.")
        request.session[SESSION_KEY] = allowed[chosen]
    request.user.tenant = tenant_for_user(request.user, request.session)
    following = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        following, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        following = "/admin/"
    return HttpResponseRedirect(following)
