"""Members and API keys of an organisation, managed by its admins."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse

from tenancy.admin_scoping import ScopedAdmin
from tenancy.models import ApiKey, Membership, api_key_create, api_key_revoke
from tenancy.roles import Role


class MembershipForm(forms.ModelForm):
    """A member is added by username: the admin of one organisation never browses the
    install's list of users."""

    username = forms.CharField(
        max_length=150, help_text="The username of an existing user (ask them for it)."
    )

    class Meta:
        model = Membership
        fields = ["organization", "role"]

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"No active user is called {username!r}.")
        self.instance.user = user
        return username

    def validate_unique(self):
        if self.instance.user_id and self.instance.organization_id:
            taken = Membership.objects.filter(
                user_id=self.instance.user_id, organization_id=self.instance.organization_id
            )
            if taken.exclude(pk=self.instance.pk).exists():
                self.add_error(
                    "username",
                    f"{self.instance.user.get_username()} is already a member; change their "
                    "role on their membership instead.",
                )
        super().validate_unique()


def is_last_admin(membership: Membership) -> bool:
    """Whether removing or demoting this member would leave the organisation without an
    admin (then only a superuser could manage its members and keys)."""
    return (
        membership.role == Role.ADMIN
        and not Membership.objects.filter(
            organization_id=membership.organization_id, role=Role.ADMIN
        )
        .exclude(pk=membership.pk)
        .exists()
    )


class MembershipRoleForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def clean_role(self):
        role = self.cleaned_data["role"]
        if role != Role.ADMIN and is_last_admin(Membership.objects.get(pk=self.instance.pk)):
            raise forms.ValidationError(
                "This is the organisation's last admin; make another member admin first."
            )
        return role


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ["user", "role", "organization", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MembershipForm if obj is None else MembershipRoleForm
        return super().get_form(request, obj, change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and is_last_admin(obj):
            return False  # see is_last_admin
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Members are removed one at a time, so that the last admin check above applies.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                name
                for name in ["username", "organization", "role"]
                if name != "organization" or not self.organization_is_assigned(request)
            ]
        return ["user", "organization", "role"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["user", "organization"]


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["organization", "label", "role"]


@admin.register(ApiKey)
class ApiKeyAdmin(ScopedAdmin):
    """Keys are created (the key is shown once, on the page that answers the form) and
    revoked; never edited."""

    form = ApiKeyForm
    list_display = [
        "label",
        "prefix",
        "role",
        "organization",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["role", "organization"]
    search_fields = ["label", "prefix"]
    actions = ["revoke"]
    readonly_fields = [
        "label",
        "prefix",
        "role",
        "organization",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                name
                for name in ["organization", "label", "role"]
                if name != "organization" or not self.organization_is_assigned(request)
            ]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # Nothing about a key changes after it is created but its revocation (the action).
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay listed: when, by whom, last used

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("tenancy.change_apikey")

    def save_model(self, request, obj, form, change):
        api_key, key = api_key_create(
            organization_id=obj.organization_id,
            role=obj.role,
            label=obj.label,
            created_by=request.user,
        )
        obj.pk = api_key.pk
        obj.refresh_from_db()
        request.created_api_key = key

    def response_add(self, request, obj, post_url_continue=None):
        # The key exists only in this response (the admin marks it no-store): no message,
        # session or cookie holds it.
        return TemplateResponse(
            request,
            "admin/tenancy/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "title": "API key created",
                "opts": self.model._meta,
                "api_key": obj,
                "key": request.created_api_key,
            },
        )

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key_id=api_key.pk)
            revoked += 1
        self.message_user(
            request,
            f"{revoked} key(s) revoked; requests with them now answer 401.",
            messages.SUCCESS,
        )
