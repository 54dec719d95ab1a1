"""Attach the tenant to every request (`request.tenant`, and `request.user.tenant` so that
permission checks through `user.has_perm` see the role in the current organisation)."""

from tenancy.scoping import tenant_for_user


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        tenant = tenant_for_user(user, request.session)
        request.tenant = tenant
        if user.is_authenticated:
            user.tenant = tenant
        return self.get_response(request)
