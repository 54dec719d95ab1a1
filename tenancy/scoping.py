"""The one scoping mechanism: who is asking (a `Tenant`), and which rows they may see.

Every admin page, form choice, action, API view, WebSocket consumer, report and export
narrows its queryset with `scoped(queryset, tenant)`. A row of another organisation is
then simply absent, so looking it up by id answers 404, never its contents.

A request's tenant comes from its API key (the key's organisation and role) or from the
session: the organisation the user picked among their memberships (the first by name
until they pick one). Superusers see every organisation until they pick one.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet

from tenancy.roles import COST_READERS, role_permissions

SESSION_KEY = "organization_id"

# How each model reaches its organisation; None: shared by every organisation.
ORGANIZATION_PATHS: dict[str, str | None] = {
    "campaigns.organization": "pk",
    "campaigns.contact": "organization",
    "campaigns.consent": "contact__organization",
    "campaigns.suppression": "organization",
    "campaigns.registrysync": "organization",
    "campaigns.survey": "organization",
    "campaigns.question": "survey__organization",
    "campaigns.campaign": "organization",
    "campaigns.target": "campaign__organization",
    "campaigns.importjob": "organization",
    "campaigns.targetingjob": "organization",
    "campaigns.importedcontact": "import_job__organization",
    "campaigns.budgetalert": "organization",
    "agents.agent": "organization",
    "calls.phonenumber": "organization",
    "calls.call": "organization",
    "calls.callevent": "call__organization",
    "calls.turn": "call__organization",
    "calls.recording": "call__organization",
    "calls.costentry": "call__organization",
    "calls.campaigndailycost": "organization",
    "calls.surveyanswer": "call__organization",
    "calls.webhookendpoint": "organization",
    "calls.webhookdelivery": "organization",
    "calls.webhookattempt": "delivery__organization",
    "calls.ratecard": None,  # the providers' prices, the same for every organisation
    "tenancy.membership": "organization",
    "tenancy.apikey": "organization",
    # Users in a form's choices (who created a row): the members of the organisation.
    "auth.user": "memberships__organization",
}


def organization_path(model: type[Model]) -> str | None:
    label = model._meta.label_lower
    try:
        return ORGANIZATION_PATHS[label]
    except KeyError:
        raise ImproperlyConfigured(
            f"{label} has no organisation path in tenancy.scoping.ORGANIZATION_PATHS; "
            "every model that users can reach must say how it is scoped."
        ) from None


@dataclass(frozen=True)
class Tenant:
    """Who is asking: a user or an API key, the current organisation and the role in it.

    `organization` is None for a superuser who has not picked one (every organisation) and
    for a user with no membership (nothing)."""

    user: object | None = None
    organization: object | None = None
    role: str | None = None
    api_key: object | None = None
    organizations: tuple = field(default=(), compare=False)

    @property
    def is_superuser(self) -> bool:
        return bool(self.user is not None and getattr(self.user, "is_superuser", False))

    @property
    def organization_id(self) -> int | None:
        return self.organization.pk if self.organization is not None else None

    @property
    def sees_every_organization(self) -> bool:
        return self.is_superuser and self.organization is None

    def has_perm(self, permission: str) -> bool:
        return self.is_superuser or permission in role_permissions(self.role)

    @property
    def reads_costs(self) -> bool:
        return self.is_superuser or self.role in COST_READERS


NOBODY = Tenant()


def scoped(queryset: QuerySet, tenant: Tenant) -> QuerySet:
    """The rows of `queryset` that `tenant` may see."""
    path = organization_path(queryset.model)
    if path is None or tenant.sees_every_organization:
        return queryset
    if tenant.organization is None:
        return queryset.none()
    return queryset.filter(**{path: tenant.organization.pk})


def tenant_for_user(user, session=None) -> Tenant:
    """The tenant of a logged-in user, in the organisation picked in `session` if they may
    act in it, else their first organisation by name."""
    from campaigns.models import Organization

    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    chosen = session.get(SESSION_KEY) if session is not None else None
    if user.is_superuser:
        organizations = tuple(Organization.objects.order_by("name"))
        current = next((org for org in organizations if org.pk == chosen), None)
        return Tenant(user=user, organization=current, organizations=organizations)
    memberships = list(
        user.memberships.select_related("organization").order_by("organization__name")
    )
    if not memberships:
        return Tenant(user=user)
    current = next((m for m in memberships if m.organization_id == chosen), memberships[0])
    return Tenant(
        user=user,
        organization=current.organization,
        role=current.role,
        organizations=tuple(m.organization for m in memberships),
    )


def tenant_for_api_key(api_key) -> Tenant:
    return Tenant(organization=api_key.organization, role=api_key.role, api_key=api_key)


def tenant_of(request) -> Tenant:
    """The tenant of a Django or DRF request: the API key's, or the user's in the
    organisation picked in the session (as `TenantMiddleware` attached it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return NOBODY
    tenant = getattr(user, "tenant", None)
    if tenant is None:
        # A user authenticated after the middleware ran (DRF); same rules.
        tenant = tenant_for_user(user, getattr(request, "session", None))
        user.tenant = tenant
    return tenant
