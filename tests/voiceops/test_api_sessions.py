"""The API with the admin's session: it acts in the organisation picked in the admin, and a
write needs the CSRF token, as any form of the admin does."""

import pytest
from rest_framework.test import APIClient

from tenancy.models import Membership
from tenancy.scoping import SESSION_KEY
from tests.api_world import world
from tests.factories import member_of

pytestmark = pytest.mark.django_db


def test_a_session_acts_in_the_organisation_picked_in_the_admin():
    bayview = world("Bayview Dental", phone_prefix="+1305555")
    harbor = world("Harbor Clinic", phone_prefix="+1786555")
    user = member_of("operator", "olivia", organization=bayview.organization)
    Membership.objects.create(user=user, organization=harbor.organization, role="finance")
    client = APIClient()
    client.force_login(user)

    first = client.get("/api/contacts/")
    session = client.session
    session[SESSION_KEY] = harbor.organization.pk
    session.save()
    picked = client.get("/api/calls/")
    contacts_there = client.get("/api/contacts/")

    assert [row["id"] for row in first.json()["results"]] == [bayview.contact.pk]
    assert [row["id"] for row in picked.json()["results"]] == [harbor.call.pk]
    assert picked.json()["results"][0]["cost_total"] == "0.014000"  # finance there
    assert contacts_there.status_code == 403


def test_a_session_write_without_the_csrf_token_is_refused():
    bayview = world("Bayview Dental", phone_prefix="+1305555")
    user = member_of("operator", "olivia", organization=bayview.organization)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/api/contacts/", {"phone": "3055550160"}, format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["message"].startswith("CSRF Failed")


def test_a_superuser_acting_in_every_organisation_names_it_on_writes(django_user_model):
    bayview = world("Bayview Dental", phone_prefix="+1305555")
    world("Harbor Clinic", phone_prefix="+1786555")
    root = django_user_model.objects.create_superuser("root", password="a-long-password-1")
    client = APIClient()
    client.force_login(root)

    everything = client.get("/api/contacts/")
    unnamed = client.post("/api/contacts/", {"phone": "3055550161"}, format="json")
    named = client.post(
        "/api/contacts/",
        {"phone": "3055550161", "organization": bayview.organization.pk},
        format="json",
    )
    narrowed = client.get("/api/contacts/", {"organization": bayview.organization.pk})

    assert everything.json()["count"] == 2
    assert unnamed.status_code == 400
    assert unnamed.json()["errors"] == [
        {
            "field": "organization",
            "message": "Name the organisation (its id): you act in every one.",
        }
    ]
    assert (named.status_code, named.json()["organization"]) == (201, bayview.organization.pk)
    assert narrowed.json()["count"] == 2


@pytest.mark.parametrize(
    "template",
    [
        "/api/",
        "/api/contacts/",
        "/api/contacts/{contact}/",
        "/api/campaigns/",
        "/api/campaigns/{campaign}/",
        "/api/campaigns/{campaign}/targets/",
        "/api/surveys/",
        "/api/phone-numbers/",
        "/api/calls/{call}/",
        "/api/organization/",
    ],
)
def test_the_browsable_api_renders_for_a_logged_in_admin_with_nothing_of_another(template):
    bayview = world("Bayview Dental", phone_prefix="+1305555")
    harbor = world("Harbor Clinic", phone_prefix="+1786555")
    user = member_of("admin", "ada", organization=bayview.organization)
    client = APIClient()
    client.force_login(user)
    url = template.format(
        contact=bayview.contact.pk, campaign=bayview.campaign.pk, call=bayview.call.pk
    )

    response = client.get(url, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Harbor Clinic" not in page
    assert f">{harbor.agent.name}<" not in page
    assert f">{harbor.phone_number.number}<" not in page
