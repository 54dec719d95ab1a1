"""Roles for the new models: finance reads the daily cost roll-up; operators read webhook
deliveries and their attempts, and may retry them. Endpoints (URL and secret) stay with
administrators."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "finance": ["view_campaigndailycost"],
    "operators": ["view_webhookdelivery", "change_webhookdelivery", "view_webhookattempt"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("calls")
    # Migration-state app configs have no models module; create_permissions needs one.
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="calls", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=group_name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="calls", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0005_call_settled_webhooks_and_daily_costs"),
        ("campaigns", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
