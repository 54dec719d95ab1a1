"""What each role may do, as data: Django permission names per role.

A member's role applies only inside the organisation of the membership (`tenancy.scoping`
decides which rows are visible); superusers hold every permission in every organisation.
"""

from django.db import models


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    FINANCE = "finance", "Finance"
    ADMIN = "admin", "Admin"


OPERATOR = {
    "campaigns": {
        "organization": ["view"],
        "contact": ["add", "change", "delete", "view"],
        "consent": ["add", "change", "view"],
        "suppression": ["add", "change", "delete", "view"],
        "registrysync": ["add", "view"],
        "survey": ["add", "change", "delete", "view"],
        "question": ["add", "change", "delete", "view"],
        "campaign": ["add", "change", "view"],
        "target": ["add", "change", "view"],
        "importjob": ["add", "view"],
        "targetingjob": ["add", "view"],
    },
    "agents": {"agent": ["add", "change", "delete", "view"]},
    "calls": {
        "phonenumber": ["view"],
        "call": ["view"],
        "callevent": ["view"],
        "turn": ["view"],
        # Operators listen to calls they run (quality, disputes); so does finance.
        "recording": ["view"],
        "webhookdelivery": ["view", "change"],
        "webhookattempt": ["view"],
        "surveyanswer": ["view"],
    },
}

FINANCE = {
    "campaigns": {"organization": ["view"], "campaign": ["view"], "budgetalert": ["view"]},
    "agents": {"agent": ["view"]},
    "calls": {
        "call": ["view"],
        "callevent": ["view"],
        "turn": ["view"],
        "recording": ["view"],
        "costentry": ["view"],
        "ratecard": ["view"],
        "phonenumber": ["view"],
        "campaigndailycost": ["view"],
        "surveyanswer": ["view"],
    },
}

# Admins do what operators and finance do, and run the organisation itself.
ADMIN_ONLY = {
    "campaigns": {"organization": ["change"]},
    "calls": {
        "phonenumber": ["add", "change", "delete"],
        "webhookendpoint": ["add", "change", "delete", "view"],
    },
    "tenancy": {
        "membership": ["add", "change", "delete", "view"],
        "apikey": ["add", "change", "view"],
    },
}


def _names(*grants: dict) -> frozenset[str]:
    return frozenset(
        f"{app_label}.{action}_{model}"
        for grant in grants
        for app_label, models_ in grant.items()
        for model, actions in models_.items()
        for action in actions
    )


PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OPERATOR: _names(OPERATOR),
    Role.FINANCE: _names(FINANCE),
    Role.ADMIN: _names(OPERATOR, FINANCE, ADMIN_ONLY),
}

# Reading costs is what finance and admins may do and operators may not.
COST_READERS = frozenset({Role.FINANCE, Role.ADMIN})


def role_permissions(role: str | None) -> frozenset[str]:
    return PERMISSIONS.get(role, frozenset())


def roles_with(permission: str) -> list[str]:
    """The roles holding `permission`, for errors that name the role a user lacks."""
    return [role.value for role in Role if permission in PERMISSIONS[role]]
