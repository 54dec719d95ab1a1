"""Members, the organisation switcher and API keys in the admin, the setup commands and
the admin's lockout."""

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns.models import Organization
from tenancy.models import ApiKey, Membership
from tests.factories import OrganizationFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def listed_pks(page) -> set:
    return set(page.context["cl"].queryset.values_list("pk", flat=True))


# Members


def test_an_admin_adds_an_existing_user_by_username_changes_their_role_and_removes_them(
    client, ours, theirs, admin_of_ours
):
    zoe = User.objects.create_user("zoe", password="pw-zoe-123-long", is_staff=True)
    client.force_login(admin_of_ours)

    added = client.post(
        reverse("admin:tenancy_membership_add"),
        {"username": "zoe", "role": "operator", "organization": theirs.organization.pk},
    )
    membership = Membership.objects.get(user=zoe)
    client.post(
        reverse("admin:tenancy_membership_change", args=[membership.pk]), {"role": "finance"}
    )
    role_after_change = Membership.objects.get(pk=membership.pk).role
    client.post(reverse("admin:tenancy_membership_delete", args=[membership.pk]), {"post": "yes"})

    assert added.status_code == 302
    assert membership.organization == ours.organization  # not the one the post named
    assert role_after_change == "finance"
    assert not Membership.objects.filter(user=zoe).exists()


@pytest.mark.parametrize(
    ("username", "error"),
    [
        ("nobody", "No active user is called 'nobody'."),
        ("bayview-admin", "bayview-admin is already a member; change their role"),
    ],
)
def test_adding_an_unknown_user_or_a_member_again_is_a_form_error(
    client, ours, admin_of_ours, username, error
):
    client.force_login(admin_of_ours)

    posted = client.post(
        reverse("admin:tenancy_membership_add"), {"username": username, "role": "operator"}
    )

    assert posted.status_code == 200
    assert error in text_of(posted)
    assert Membership.objects.filter(organization=ours.organization).count() == 1


def test_the_last_admin_can_be_neither_demoted_nor_removed(client, ours, admin_of_ours):
    membership = ours["tenancy.membership"]
    client.force_login(admin_of_ours)

    demoted = client.post(
        reverse("admin:tenancy_membership_change", args=[membership.pk]), {"role": "operator"}
    )
    removed = client.post(
        reverse("admin:tenancy_membership_delete", args=[membership.pk]), {"post": "yes"}
    )

    membership.refresh_from_db()
    assert "This is the organisation's last admin; make another member admin first." in text_of(
        demoted
    )
    assert removed.status_code == 403
    assert membership.role == "admin"


def test_the_member_form_never_lists_the_installs_users(client, ours, admin_of_ours):
    client.force_login(admin_of_ours)

    page = client.get(reverse("admin:tenancy_membership_add"))

    assert "harbor-admin" not in page.content.decode()
    assert 'name="username"' in page.content.decode()


@pytest.mark.parametrize("role", ["operator", "finance"])
def test_only_admins_manage_members_and_keys(client, ours, role):
    client.force_login(member_of(role, f"bayview-{role}", organization=ours.organization))

    pages = [
        reverse("admin:tenancy_membership_changelist"),
        reverse("admin:tenancy_membership_add"),
        reverse("admin:tenancy_apikey_changelist"),
        reverse("admin:tenancy_apikey_add"),
    ]

    assert [client.get(url).status_code for url in pages] == [403, 403, 403, 403]


# The organisation switcher


def test_the_header_names_the_current_organisation(client, ours, operator_of_ours):
    client.force_login(operator_of_ours)

    page = client.get(reverse("admin:index"))

    assert "Organisation: Bayview Dental" in text_of(page)
    assert b'id="organization-choice"' not in page.content  # one organisation: no switcher


def test_a_member_of_two_organisations_switches_between_them(client, ours, theirs):
    user = member_of("operator", "bayview-operator", organization=ours.organization)
    Membership.objects.create(user=user, organization=theirs.organization, role="finance")
    client.force_login(user)
    contacts = reverse("admin:campaigns_contact_changelist")

    before = listed_pks(client.get(contacts))
    switched = client.post(
        reverse("admin:campaigns_organization_switch"),
        {"organization": theirs.organization.pk, "next": contacts},
    )
    header = client.get(reverse("admin:index"))
    as_finance = client.get(contacts)  # finance in Harbor: no contacts
    calls = listed_pks(client.get(reverse("admin:calls_call_changelist")))

    assert before == {ours["campaigns.contact"].pk}
    assert switched["Location"] == contacts
    assert re.search(
        rf'<option value="{theirs.organization.pk}" selected>Harbor Clinic</option>',
        header.content.decode(),
    )
    assert as_finance.status_code == 403
    assert calls == {theirs["calls.call"].pk}


def test_switching_to_an_organisation_the_user_is_not_in_answers_404(
    client, ours, theirs, operator_of_ours
):
    stranger = OrganizationFactory(name="Elsewhere")
    client.force_login(operator_of_ours)

    refused = client.post(
        reverse("admin:campaigns_organization_switch"), {"organization": stranger.pk}
    )
    every = client.post(reverse("admin:campaigns_organization_switch"), {"organization": "all"})
    contacts = listed_pks(client.get(reverse("admin:campaigns_contact_changelist")))

    assert (refused.status_code, every.status_code) == (404, 404)
    assert contacts == {ours["campaigns.contact"].pk}


def test_the_switcher_does_not_redirect_off_site(client, ours, operator_of_ours):
    client.force_login(operator_of_ours)

    switched = client.post(
        reverse("admin:campaigns_organization_switch"),
        {"organization": ours.organization.pk, "next": "https://evil.example/"},
    )

    assert switched["Location"] == "/admin/"


# API keys


def test_an_api_key_is_shown_once_used_and_revoked(client, ours, admin_of_ours):
    client.force_login(admin_of_ours)

    created = client.post(
        reverse("admin:tenancy_apikey_add"), {"label": "CRM sync", "role": "operator"}
    )
    key = re.search(r'<code id="api-key"[^>]*>([^<]+)</code>', created.content.decode()).group(1)
    api_key = ApiKey.objects.get(label="CRM sync")
    listing = client.get(reverse("admin:tenancy_apikey_changelist"))
    detail = client.get(reverse("admin:tenancy_apikey_change", args=[api_key.pk]))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    used = api.get("/api/contacts/")
    client.post(
        reverse("admin:tenancy_apikey_changelist"),
        {"action": "revoke", "_selected_action": [api_key.pk]},
    )
    after = api.get("/api/contacts/")

    api_key.refresh_from_db()
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]  # no browser or proxy keeps the page
    assert key.startswith(api_key.prefix)
    assert (api_key.organization, api_key.role, api_key.created_by) == (
        ours.organization,
        "operator",
        admin_of_ours,
    )
    for page in (listing, detail):
        assert api_key.prefix in page.content.decode()
        assert key not in page.content.decode()
    assert b'name="_save"' not in detail.content  # never editable
    assert used.status_code == 200
    assert api_key.last_used_at is not None
    assert api_key.revoked_at is not None
    assert after.status_code == 401
    assert "This API key was revoked." in after.content.decode()


def test_a_forged_key_role_is_refused(client, admin_of_ours):
    client.force_login(admin_of_ours)

    posted = client.post(reverse("admin:tenancy_apikey_add"), {"label": "x", "role": "owner"})

    assert "Select a valid choice" in text_of(posted)
    assert not ApiKey.objects.filter(label="x").exists()


# Commands: names, flags and the last line of stdout are a contract.


def run(*args) -> list[str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().splitlines()


def test_the_setup_commands_create_an_organisation_a_member_and_a_working_key(db):
    User.objects.create_user("maria", password="pw-maria-123-long")

    organization_id = run(
        "createorganization", "Lakeside Vets", "--time-zone", "America/Chicago", "--currency", "eur"
    )[-1]
    added = run("addmember", "maria", "--organization", "Lakeside Vets", "--role", "admin")[-1]
    key = run(
        "createapikey", "--organization", "Lakeside Vets", "--role", "finance", "--label", "BI"
    )[-1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    organization = Organization.objects.get(pk=int(organization_id))
    membership = Membership.objects.get(user__username="maria")
    api_key = ApiKey.objects.get(label="BI")
    assert (organization.name, organization.time_zone, organization.currency) == (
        "Lakeside Vets",
        "America/Chicago",
        "EUR",
    )
    assert added == "Added maria as admin of Lakeside Vets."
    assert (membership.organization, membership.role, membership.user.is_staff) == (
        organization,
        "admin",
        True,
    )
    assert (api_key.organization, api_key.role, key.startswith(api_key.prefix)) == (
        organization,
        "finance",
        True,
    )
    assert api.get("/api/contacts/").status_code == 403  # finance: authenticated, no contacts


def test_the_commands_refuse_unknown_names_clearly(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No organisation is named 'Nowhere'"):
        run("createapikey", "--organization", "Nowhere", "--role", "admin")
    OrganizationFactory(name="Lakeside Vets")
    with pytest.raises(CommandError, match="No user is named 'ghost'"):
        run("addmember", "ghost", "--organization", "Lakeside Vets", "--role", "operator")
    with pytest.raises(CommandError, match="already exists"):
        run("createorganization", "Lakeside Vets", "--time-zone", "America/Chicago")


# Signing in


def test_signing_in_at_the_login_page_itself_lands_on_the_dashboard(client, db):
    member_of("operator", "olivia")
    signed_in = client.post(
        reverse("admin:login"), {"username": "olivia", "password": "pw-operator-123-long"}
    )
    assert (signed_in.status_code, signed_in["Location"]) == (302, reverse("admin:index"))
    assert client.get(signed_in["Location"]).status_code == 200


# Lockout


def test_the_admin_login_locks_after_repeated_failures_even_with_the_right_password(client, db):
    member_of("operator", "olivia")
    login = reverse("admin:login")

    failures = [
        client.post(login, {"username": "olivia", "password": "wrong"}).status_code
        for _ in range(5)
    ]
    locked = client.post(login, {"username": "olivia", "password": "pw-operator-123-long"})
    index = client.get(reverse("admin:index"))

    assert failures[:4] == [200, 200, 200, 200]
    assert locked.status_code == 429
    assert index.status_code == 302  # still not logged in
