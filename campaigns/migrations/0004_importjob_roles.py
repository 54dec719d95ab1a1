"""Operators upload imports and follow their progress."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR_CODENAMES = ["add_importjob", "view_importjob"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("campaigns")
    # Migration-state app configs have no models module; create_permissions needs one.
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    operators, _ = Group.objects.get_or_create(name="operators")
    operators.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="campaigns", codename__in=OPERATOR_CODENAMES
        )
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="operators"):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="campaigns", codename__in=OPERATOR_CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0003_importjob"), ("campaigns", "0002_roles")]

    operations = [migrations.RunPython(grant, revoke)]
