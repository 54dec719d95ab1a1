"""The API's contract: its OpenAPI schema validates and describes auth and errors; the root
lists every resource; requests are throttled per key and per user."""

import pytest
import yaml
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from tenancy.models import api_key_create
from tests.factories import default_organization, member_of

pytestmark = pytest.mark.django_db


def test_the_schema_validates_with_no_warning_and_documents_auth_and_errors(tmp_path):
    path = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    schema = yaml.safe_load(path.read_text())
    assert set(schema["components"]["securitySchemes"]) == {"apiKey", "session"}
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    operations = {
        (method.upper(), url): operation
        for url, item in schema["paths"].items()
        for method, operation in item.items()
        if url.startswith("/api/") and url not in ("/api/", "/api/schema/", "/api/docs/")
    }
    assert len(operations) > 40
    for (method, url), operation in operations.items():
        assert {"401", "403", "429"} <= set(operation["responses"]), (method, url)
        assert {"apiKey": []} in operation["security"], (method, url)
        if "{id}" in url:
            assert "404" in operation["responses"], (method, url)
        if method in ("POST", "PUT", "PATCH"):
            assert "400" in operation["responses"], (method, url)
    assert "409" in operations[("POST", "/api/campaigns/{id}/launch/")]["responses"]
    survey = schema["components"]["schemas"]["SurveyRequest"]
    assert survey["properties"]["questions"]["type"] == "array"


def test_the_root_lists_every_resource(db):
    response = APIClient().get("/api/")

    assert response.status_code == 200
    assert response.json()["campaigns"] == "http://testserver/api/campaigns/"
    assert set(response.json()) == {
        "organization",
        "contacts",
        "contact_import",
        "imports",
        "suppressions",
        "suppression_import",
        "opt_outs",
        "registry_syncs",
        "agents",
        "surveys",
        "phone_numbers",
        "campaigns",
        "calls",
        "schema",
        "docs",
    }


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@override_settings(API_THROTTLE_RATE="3/minute")
def test_each_api_key_has_its_own_budget_and_then_gets_429_with_retry_after():
    organization = default_organization()
    first_key, first = api_key_create(organization_id=organization.pk, role="operator")
    second_key, second = api_key_create(organization_id=organization.pk, role="operator")
    for api_key in (first_key, second_key):
        cache.delete(f"throttle-client-key-{api_key.pk}")

    answers = [bearer(first).get("/api/contacts/").status_code for _ in range(4)]
    refused = bearer(first).get("/api/campaigns/")
    other_key = bearer(second).get("/api/contacts/")

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["message"].startswith("Request was throttled.")
    assert other_key.status_code == 200


@override_settings(API_THROTTLE_RATE="2/minute")
def test_each_user_has_its_own_budget():
    olivia, oscar = member_of("operator", "olivia"), member_of("operator", "oscar")
    clients = {}
    for user in (olivia, oscar):
        cache.delete(f"throttle-client-user-{user.pk}")
        clients[user.username] = APIClient()
        clients[user.username].force_authenticate(user)

    olivia_answers = [clients["olivia"].get("/api/contacts/").status_code for _ in range(3)]
    oscar_answer = clients["oscar"].get("/api/contacts/").status_code

    assert olivia_answers == [200, 200, 429]
    assert oscar_answer == 200
