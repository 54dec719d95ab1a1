"""Create the `operators` and `finance` groups with their permissions.

Permissions are normally created after migrations run, so they are created here first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATORS = {
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
    },
    "agents": {"agent": ["add", "change", "delete", "view"]},
    "calls": {
        "phonenumber": ["view"],
        "call": ["view"],
        "callevent": ["view"],
        "turn": ["view"],
    },
}

FINANCE = {
    "campaigns": {"organization": ["view"], "campaign": ["view"]},
    "agents": {"agent": ["view"]},
    "calls": {
        "call": ["view"],
        "callevent": ["view"],
        "costentry": ["view"],
        "ratecard": ["view"],
        "phonenumber": ["view"],
    },
}

ROLES = {"operators": OPERATORS, "finance": FINANCE}


def create_roles(apps, schema_editor):
    for app_label in ("campaigns", "calls", "agents"):
        app_config = apps.get_app_config(app_label)
        # Migration-state app configs have no models module; create_permissions needs one.
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        codenames = [
            (app_label, f"{action}_{model}")
            for app_label, models in grants.items()
            for model, actions in models.items()
            for action in actions
        ]
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in codenames
        ]
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("calls", "0002_initial"),
        ("agents", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
