"""The API's authentication, role permission and throttling (DRF).

Requests authenticate with `Authorization: Bearer <key>` (an organisation's API key) or
with the admin's session (the browsable API). Basic authentication is off.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from tenancy.models import ApiKey, key_digest
from tenancy.roles import roles_with
from tenancy.scoping import tenant_for_api_key, tenant_of

LAST_USED_RESOLUTION = timedelta(minutes=1)  # at most one write a minute per key


class ApiKeyUser:
    """The identity of a request made with an API key: no Django user, a role in one
    organisation."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.tenant = tenant_for_api_key(api_key)
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self):
        return self.username

    def has_perm(self, permission: str, obj=None) -> bool:
        return self.tenant.has_perm(permission)

    def has_perms(self, permission_list, obj=None) -> bool:
        return all(self.has_perm(permission) for permission in permission_list)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be `Bearer <key>`, with no spaces in the key."
            )
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The API key has invalid characters.") from None
        api_key = (
            ApiKey.objects.select_related("organization").filter(digest=key_digest(key)).first()
        )
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if api_key.is_revoked:
            raise exceptions.AuthenticationFailed("This API key was revoked.")
        now = timezone.now()
        if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


class SessionAuthentication(authentication.SessionAuthentication):
    """The admin's session, for the browsable API and pages' scripts (CSRF enforced)."""


def missing_role_message(permission: str, tenant) -> str:
    allowed = roles_with(permission)
    needed = " or ".join(allowed) if allowed else "a superuser"
    where = f" in {tenant.organization}" if tenant.organization is not None else ""
    if tenant.role:
        return f"This needs the {needed} role{where}; yours is {tenant.role}."
    return f"This needs the {needed} role{where}; you have no role there."


class RolePermission(permissions.BasePermission):
    """Allows a request when the tenant's role holds the permission the view asks for.

    A view names what it needs per HTTP method in `required_permissions` (a dict of method
    to permission name, with "*" as the default) or, for one model's CRUD, gets it from its
    queryset's model: view for reads, add for POST, change for PUT/PATCH, delete for DELETE.
    """

    ACTIONS = {
        "GET": "view",
        "HEAD": "view",
        "OPTIONS": "view",
        "POST": "add",
        "PUT": "change",
        "PATCH": "change",
        "DELETE": "delete",
    }

    def required(self, request, view) -> str:
        declared = getattr(view, "required_permissions", None)
        if declared:
            return declared.get(request.method) or declared["*"]
        model = view.get_queryset().model
        action = self.ACTIONS.get(request.method, "change")
        return f"{model._meta.app_label}.{action}_{model._meta.model_name}"

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        tenant = tenant_of(request)
        if not tenant.sees_every_organization and tenant.organization is None:
            self.message = "You are not a member of any organisation."
            return False
        permission = self.required(request, view)
        if tenant.has_perm(permission):
            return True
        self.message = missing_role_message(permission, tenant)
        return False


class ClientRateThrottle(throttling.SimpleRateThrottle):
    """One budget of requests per API key, per user, or per address for anonymous requests
    (`API_THROTTLE_RATE`, e.g. `600/minute`); over it: 429 with `Retry-After`."""

    scope = "client"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, ApiKeyUser):
            ident = f"key-{user.api_key.pk}"
        elif user and user.is_authenticated:
            ident = f"user-{user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return f"throttle-{self.scope}-{ident}"

    def allow_request(self, request, view):
        # The rate may change with settings (tests, reconfiguration); read it every time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
