"""The admin, scoped to the current organisation with `tenancy.scoping.scoped`.

Every ModelAdmin and inline of the project derives from `ScopedAdmin` / `ScopedInline`, so
that changelists, change views, actions (which act on `get_queryset`), form choices,
autocompletes and related list filters only ever reach rows of the organisation the user
is acting in. An object of another organisation answers 404, exactly like one that does
not exist. New objects get the current organisation: the field is hidden from members; a
superuser picks it (among every organisation until they pick one in the header).
"""

from django.contrib import admin
from django.db.models import ForeignKey
from django.http import Http404
from unfold.admin import ModelAdmin as ThemedModelAdmin
from unfold.admin import TabularInline as ThemedTabularInline

from tenancy.scoping import Tenant, organization_path, scoped, tenant_of

ORGANIZATION_FIELD = "organization"


def is_scoped_by_organization(model) -> bool:
    return organization_path(model) is not None


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-object filter listing only the related rows the user may see."""

    def field_choices(self, field, request, model_admin):
        related = field.remote_field.model
        ordering = self.field_admin_ordering(field, request, model_admin)
        queryset = scoped(related._default_manager.all(), tenant_of(request))
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(row.pk, str(row)) for row in queryset]


def scoped_choices(formfield, request):
    """Narrow a model choice field (dropdown, raw id, autocomplete) to the user's rows, so a
    forged id of another organisation is refused like an unknown one."""
    if formfield is not None and hasattr(formfield, "queryset"):
        formfield.queryset = scoped(formfield.queryset, tenant_of(request))
    return formfield


class ScopedFormMixin:
    """Choices of every foreign key and many-to-many field scoped to the user."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return scoped_choices(
            super().formfield_for_foreignkey(db_field, request, **kwargs), request
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return scoped_choices(
            super().formfield_for_manytomany(db_field, request, **kwargs), request
        )

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), tenant_of(request))


class ScopedTabularInline(ScopedFormMixin, ThemedTabularInline):
    """Base of every inline: its rows and choices are scoped like its parent's."""


class ScopedAdmin(ScopedFormMixin, ThemedModelAdmin):
    """Base of every ModelAdmin of the project; see the module docstring."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects with "… doesn't exist. Perhaps it was deleted?"; another
        # organisation's object must be indistinguishable from a missing one: 404.
        raise Http404(f"No {opts.verbose_name} with id {object_id!r}.")

    # The organisation a new object belongs to.

    def has_organization_field(self) -> bool:
        try:
            field = self.model._meta.get_field(ORGANIZATION_FIELD)
        except Exception:
            return False
        return isinstance(field, ForeignKey) and organization_path(self.model) == (
            ORGANIZATION_FIELD
        )

    def organization_is_assigned(self, request) -> bool:
        """Members create into their current organisation, the field hidden; superusers
        choose it."""
        return self.has_organization_field() and not tenant_of(request).is_superuser

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if self.organization_is_assigned(request):
            exclude.append(ORGANIZATION_FIELD)
        return exclude

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self.organization_is_assigned(request) and obj is None:
            fields = [name for name in fields if name != ORGANIZATION_FIELD]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.organization_is_assigned(request) or obj is not None:
            return fieldsets
        return [
            (name, {**options, "fields": _without(options["fields"], ORGANIZATION_FIELD)})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self.organization_is_assigned(request) and obj is not None:
            # Members see which organisation an object belongs to, and cannot move it.
            readonly.append(ORGANIZATION_FIELD)
        return readonly

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        tenant = tenant_of(request)
        if self.has_organization_field() and tenant.organization is not None:
            initial.setdefault(ORGANIZATION_FIELD, tenant.organization.pk)
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not self.organization_is_assigned(request):
            return form
        organization = tenant_of(request).organization
        return _form_assigning(form, organization)

    def has_add_permission(self, request, *args):
        allowed = super().has_add_permission(request, *args)
        if allowed and self.organization_is_assigned(request):
            return tenant_of(request).organization is not None
        return allowed

    # Related list filters list only the user's rows; the organisation filter only shows
    # to superusers who see every organisation.

    def get_list_filter(self, request):
        tenant: Tenant = tenant_of(request)
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                if item == ORGANIZATION_FIELD and not tenant.sees_every_organization:
                    continue
                field = _field_or_none(self.model, item)
                if field is not None and field.is_relation and field.related_model is not None:
                    item = (item, ScopedRelatedFieldListFilter)
            filters.append(item)
        return filters


def _field_or_none(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _without(fields, name):
    kept = []
    for field in fields:
        if isinstance(field, (list, tuple)):
            field = type(field)(item for item in field if item != name)
            if field:
                kept.append(field)
        elif field != name:
            kept.append(field)
    return kept


def _form_assigning(form_class, organization):
    """The admin's form, its new instance placed in `organization` before validation (so
    the model's own checks and the per-organisation unique constraints apply)."""

    class OrganizationAssignedForm(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if getattr(self.instance, "organization_id", None) is None:
                self.instance.organization = organization

        def _get_validation_exclusions(self):
            return set(super()._get_validation_exclusions()) - {ORGANIZATION_FIELD}

    OrganizationAssignedForm.__name__ = form_class.__name__
    return OrganizationAssignedForm
