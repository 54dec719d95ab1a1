"""Who belongs to which organisation, with which role, and the API keys of each."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.roles import Role

KEY_PREFIX = "vo_"


class Membership(models.Model):
    """A user's role in one organisation; a user may belong to several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        "campaigns.Organization", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_one_role_per_organization"
            )
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} of {self.organization}"


def key_digest(key: str) -> str:
    # Keys are 256-bit random strings, so one SHA-256 is enough: there is nothing to guess.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(models.Model):
    """A key for `Authorization: Bearer <key>`, acting in one organisation with one role.

    Only a digest is stored; the key itself is shown once, when it is created.
    """

    organization = models.ForeignKey(
        "campaigns.Organization", on_delete=models.CASCADE, related_name="api_keys"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    label = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(
        max_length=16, unique=True, editable=False, help_text="The key's first characters."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.label or 'API key'} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


def api_key_create(*, organization_id: int, role: str, label: str = "", created_by=None):
    """Create a key and return `(ApiKey, key)`: the key is not stored and cannot be shown
    again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        organization_id=organization_id,
        role=role,
        label=label,
        prefix=key[: len(KEY_PREFIX) + 8],
        digest=key_digest(key),
        created_by=created_by,
    )
    return api_key, key


def api_key_revoke(*, api_key_id: int) -> None:
    """Revoke a key at once; revoking twice keeps the first instant."""
    ApiKey.objects.filter(pk=api_key_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
