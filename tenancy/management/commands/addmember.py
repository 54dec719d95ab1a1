"""`manage.py addmember USERNAME --organization "NAME" --role ROLE`: gives the user that role
in the organisation (replacing an earlier role there) and lets them log in to the admin."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tenancy.management.commands._organization import ROLE_CHOICES, organization_named
from tenancy.models import Membership


class Command(BaseCommand):
    help = "Make a user a member of an organisation with a role."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--organization", required=True, help="The organisation's name")
        parser.add_argument("--role", required=True, choices=ROLE_CHOICES)

    def handle(self, *args, username, organization, role, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(
                f"No user is named {username!r}; create it first (createsuperuser or the admin)."
            ) from None
        membership, created = Membership.objects.update_or_create(
            user=user, organization=organization_named(organization), defaults={"role": role}
        )
        if not user.is_staff:
            user.is_staff = True  # members work in the admin
            user.save(update_fields=["is_staff"])
        verb = "Added" if created else "Updated"
        self.stdout.write(f"{verb} {username} as {role} of {membership.organization}.")
