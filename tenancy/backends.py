"""Permissions from the role in the current organisation, not from groups.

`user.has_perm` (the admin, DRF, consumers) asks this backend; it reads the tenant that
`TenantMiddleware` (or the API key) attached to the user. Group and per-user permissions
are ignored: a role only means something inside its organisation. Superusers are granted
everything by Django itself before any backend is asked.
"""

from django.contrib.auth.backends import ModelBackend

from tenancy.roles import role_permissions
from tenancy.scoping import tenant_for_user


class RoleBackend(ModelBackend):
    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        tenant = getattr(user_obj, "tenant", None)
        if tenant is None:
            # Outside a request (a shell, a task): the role in the first organisation.
            tenant = user_obj.tenant = tenant_for_user(user_obj)
        return set(role_permissions(tenant.role))
