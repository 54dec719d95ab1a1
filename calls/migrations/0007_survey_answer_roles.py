"""Operators and finance read survey answers (the call page shows them, and they are what
survey results are tallied from)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ("operators", "finance")


def grant(apps, schema_editor):
    app_config = apps.get_app_config("calls")
    # Migration-state app configs have no models module; create_permissions needs one.
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="calls", codename="view_surveyanswer")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(view)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="calls", codename="view_surveyanswer"
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0006_transcription_rate"),
        ("campaigns", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
