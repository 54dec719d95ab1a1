"""The contact list: consent on file, opted out, the last call and its outcome in words,
read in a number of queries that does not grow with the contacts listed."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Suppression
from campaigns.revocation import consent_revoke
from tests.factories import (
    CallFactory,
    ConsentFactory,
    ContactFactory,
    TargetFactory,
    default_organization,
    member_of,
)
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def called(contact, *outcomes):
    target = TargetFactory(contact=contact)
    for attempt, outcome in enumerate(outcomes, start=1):
        CallFactory(target=target, attempt=attempt, outcome=outcome, status="completed")


def rows_by_phone(response):
    return {contact.phone: contact for contact in response.context["cl"].result_list}


def test_the_contact_list_shows_consent_opt_out_and_the_last_calls_outcome(client):
    confirmed = ContactFactory(phone="+13055550101", name="Ada Confirmed")
    ConsentFactory(contact=confirmed)
    called(confirmed, "", "confirmed")
    opted_out = ContactFactory(phone="+13055550102", name="Bo Optout")
    ConsentFactory(contact=opted_out)
    called(opted_out, "opted_out")
    consent_revoke(
        organization_id=opted_out.organization_id,
        phone=opted_out.phone,
        via="call",
        at=datetime(2026, 11, 24, 19, tzinfo=UTC),
    )
    ContactFactory(phone="+13055550103", name="Cy Never")
    client.force_login(member_of("operator", "olivia"))

    response = client.get(reverse("admin:campaigns_contact_changelist"))

    rows = rows_by_phone(response)
    text = text_of(response)
    assert (rows["+13055550101"].has_consent, rows["+13055550101"].is_opted_out) == (True, False)
    assert (rows["+13055550102"].has_consent, rows["+13055550102"].is_opted_out) == (False, True)
    assert rows["+13055550103"].last_call_at is None
    assert "Ada Confirmed FL Given" in text
    assert "Bo Optout FL Revoked" in text
    assert "Cy Never FL None on file No Never called —" in text
    # The latest call's outcome (not the first call's empty one), in words.
    assert re.search(r"Ada Confirmed FL Given No \d{4}-\d\d-\d\d \d\d:\d\d Confirmed", text)
    assert re.search(r"Bo Optout FL Revoked Opted out [\d:\- ]+ Opted out", text)
    assert Suppression.objects.filter(phone=opted_out.phone, source="opt_out").exists()


def test_listing_more_contacts_takes_no_more_queries(client):
    organization = default_organization()
    client.force_login(member_of("operator", "olivia"))
    url = reverse("admin:campaigns_contact_changelist")

    def add_called_contacts(count, start):
        for index in range(start, start + count):
            contact = ContactFactory(organization=organization, phone=f"+1305555{index:04d}")
            ConsentFactory(contact=contact)
            called(contact, "confirmed", "declined")

    add_called_contacts(2, 0)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    add_called_contacts(8, 100)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(rows_by_phone(response)) == 10
    assert len(many.captured_queries) == len(few.captured_queries)
