"""An API key's life through the API: created by the command (printed once), used, revoked."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tenancy.models import ApiKey, api_key_revoke
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_a_key_is_printed_once_used_as_bearer_and_refused_once_revoked():
    OrganizationFactory(name="Bayview Dental")
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "createapikey",
        "--organization",
        "Bayview Dental",
        "--role",
        "operator",
        "--label",
        "nightly sync",
        stdout=out,
        stderr=err,
    )
    key = out.getvalue().strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    used = client.get("/api/contacts/")
    api_key = ApiKey.objects.get()
    api_key_revoke(api_key_id=api_key.pk)
    revoked = client.get("/api/contacts/")

    assert key.startswith(api_key.prefix)
    assert key not in {api_key.digest, api_key.prefix, api_key.label}
    assert "cannot be shown again" in err.getvalue()
    assert used.status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert revoked.status_code == 401
    assert revoked.json() == {"errors": [{"field": None, "message": "This API key was revoked."}]}


def test_an_unknown_key_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer vo_not-a-key")

    response = client.get("/api/campaigns/")

    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Unknown API key."
