"""`/api/organization/`: the organisation a key acts in; admins change how it appears."""

import pytest

from campaigns.models import Organization
from tests.api_world import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours():
    return world("Bayview Dental", phone_prefix="+1305555")


def test_every_role_reads_its_organisation_and_only_an_admin_changes_it(ours):
    world("Harbor Clinic", phone_prefix="+1786555")

    read = ours.api("finance").get("/api/organization/")
    refused = ours.api("operator").patch("/api/organization/", {"time_zone": "America/Chicago"})
    changed = ours.api("admin").patch(
        "/api/organization/",
        {"callback_number": "(305) 555-0100", "time_zone": "America/Chicago"},
        format="json",
    )

    assert read.json()["name"] == "Bayview Dental"
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"] == (
        "This needs the admin role in Bayview Dental; yours is operator."
    )
    assert changed.status_code == 200, changed.json()
    organization = Organization.objects.get(pk=ours.organization.pk)
    assert (organization.callback_number, organization.time_zone) == (
        "+13055550100",
        "America/Chicago",
    )
    assert Organization.objects.get(name="Harbor Clinic").time_zone == "America/New_York"


def test_a_bad_time_zone_or_number_is_refused_field_by_field(ours):
    response = ours.api("admin").patch(
        "/api/organization/",
        {"time_zone": "Mars/Olympus", "callback_number": "555-12"},
        format="json",
    )

    assert response.status_code == 400
    fields = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert fields == {
        "time_zone": "'Mars/Olympus' is not an IANA time zone such as 'America/New_York'.",
        "callback_number": "'555-12' is not a valid phone number: it has the wrong number "
        "of digits",
    }
    assert Organization.objects.get(pk=ours.organization.pk).time_zone == "America/New_York"


def test_an_admin_sets_capacity_recording_and_retention_and_a_reserve_above_capacity_is_refused(
    ours,
):
    admin = ours.api("admin")

    changed = admin.patch(
        "/api/organization/",
        {"line_capacity": 20, "inbound_reserve": 4, "record_calls": True, "retention_days": 30},
        format="json",
    )
    refused = admin.patch("/api/organization/", {"inbound_reserve": 21}, format="json")

    assert changed.status_code == 200, changed.json()
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert (error["field"], error["message"]) == (
        "inbound_reserve",
        "21 lines kept for inbound calls is more than the 20 concurrent calls the account carries.",
    )
    organization = Organization.objects.get(pk=ours.organization.pk)
    assert (organization.line_capacity, organization.inbound_reserve) == (20, 4)
    assert (organization.record_calls, organization.retention_days) == (True, 30)
