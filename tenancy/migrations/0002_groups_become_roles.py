"""The `operators` and `finance` groups become memberships with a role.

Before organisations were walled off, every group member acted in every organisation, so
each becomes a member of every existing organisation: nobody loses access they had. A
user in both groups becomes an admin there, the role that holds both. The groups are
then deleted: permissions come from roles now (tenancy.backends.RoleBackend).
"""

from django.db import migrations

ROLE_OF_GROUP = {"operators": "operator", "finance": "finance"}


def groups_to_memberships(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Organization = apps.get_model("campaigns", "Organization")
    Membership = apps.get_model("tenancy", "Membership")
    roles_of_user: dict[int, set[str]] = {}
    for group in Group.objects.filter(name__in=ROLE_OF_GROUP):
        for user_id in group.user_set.values_list("pk", flat=True):
            roles_of_user.setdefault(user_id, set()).add(ROLE_OF_GROUP[group.name])
    organizations = list(Organization.objects.values_list("pk", flat=True))
    for user_id, roles in roles_of_user.items():
        role = roles.pop() if len(roles) == 1 else "admin"
        for organization_id in organizations:
            Membership.objects.get_or_create(
                user_id=user_id, organization_id=organization_id, defaults={"role": role}
            )
    Group.objects.filter(name__in=ROLE_OF_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0001_initial"),
        ("campaigns", "0004_importjob_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(groups_to_memberships, migrations.RunPython.noop)]
