"""The audience API: contacts, CSV imports, suppressions and opt-outs under /api/."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.eligibility import target_explanation
from campaigns.models import Consent, Contact, ImportJob, RegistrySync, Suppression
from campaigns.revocation import consent_revoke
from tests.factories import ConsentFactory, TargetFactory, default_organization

pytestmark = pytest.mark.django_db

TUESDAY_MORNING = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)


def csv_upload(text: str, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_it_creates_a_contact_with_its_number_in_e164_and_finds_it_by_any_format(operator_api):
    organization = default_organization()

    created = operator_api.post(
        "/api/contacts/",
        {"phone": "(305) 555-0123", "name": "Ana", "state": "fl", "variables": {"visit": "Tue"}},
        format="json",
    )
    found = operator_api.get("/api/contacts/", {"phone": "305.555.0123"})

    assert created.status_code == 201, created.data
    assert created.data["phone"] == "+13055550123"
    assert created.data["organization"] == organization.pk
    assert found.data["count"] == 1
    assert found.data["results"][0]["name"] == "Ana"
    assert found.data["results"][0]["state"] == "FL"
    one = operator_api.get(f"/api/contacts/{created.data['id']}/")
    assert one.data["variables"] == {"visit": "Tue"}


def test_bad_input_is_answered_in_one_error_shape(operator_api):
    operator_api.post("/api/contacts/", {"phone": "3055550123"}, format="json")

    duplicate = operator_api.post("/api/contacts/", {"phone": "+1 305 555 0123"}, format="json")
    invalid = operator_api.post("/api/contacts/", {"phone": "555-12"}, format="json")
    missing = operator_api.post("/api/contacts/", {}, format="json")

    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "errors": [{"field": "phone", "message": "+13055550123 is already a contact."}]
    }
    assert invalid.json() == {
        "errors": [
            {
                "field": "phone",
                "message": "'555-12' is not a valid phone number: it has the wrong number "
                "of digits",
            }
        ]
    }
    assert missing.json() == {"errors": [{"field": "phone", "message": "This field is required."}]}
    assert Contact.objects.count() == 1


def test_a_finance_user_cannot_read_contacts_and_is_told_which_role_it_needs(finance):
    client = APIClient()
    client.force_authenticate(finance)

    response = client.get("/api/contacts/")

    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {
                "field": None,
                "message": "This needs the operator or admin role in "
                f"{default_organization()}; yours is finance.",
            }
        ]
    }


def test_an_anonymous_client_is_asked_to_authenticate(db):
    response = APIClient().get("/api/contacts/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["errors"][0]["message"] == (
        "Authentication credentials were not provided."
    )


def test_a_small_csv_is_imported_during_the_request_with_row_errors(operator_api):
    organization = default_organization()
    upload = csv_upload("phone,name,appointment\n3055550101,Ana,Tue\n555-12,Bad,\n")

    response = operator_api.post(
        "/api/contacts/import/", {"file": upload, "organization": organization.pk}
    )
    status = operator_api.get(response.data["url"])

    assert response.status_code == 201
    assert status.data["status"] == "done"
    assert (status.data["total"], status.data["processed"]) == (2, 2)
    assert (status.data["created"], status.data["error_count"]) == (1, 1)
    assert status.data["errors"] == [
        {
            "row": 3,
            "field": "phone",
            "message": "'555-12' is not a valid phone number: it has the wrong number of digits",
        }
    ]
    assert Contact.objects.get().variables == {"appointment": "Tue"}


def test_a_large_csv_goes_to_a_worker_and_its_job_shows_progress(
    operator_api, tasks_run_here, django_capture_on_commit_callbacks
):
    rows = "".join(f"305555{1000 + n},Contact {n} {'x' * 60}\n" for n in range(3500))
    upload = csv_upload("phone,name\n" + rows)

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.post("/api/contacts/import/", {"file": upload})
    status = operator_api.get(f"/api/imports/{response.data['id']}/")

    assert response.status_code == 202
    assert response.data["status"] == "pending"
    assert status.data["status"] == "done"
    assert (status.data["total"], status.data["processed"], status.data["created"]) == (
        3500,
        3500,
        3500,
    )
    assert Contact.objects.count() == 3500


def test_a_file_without_a_phone_column_is_a_400_with_the_reason(operator_api):

    response = operator_api.post(
        "/api/contacts/import/", {"file": csv_upload("name\nAna\n")}, format="multipart"
    )

    assert response.status_code == 400
    assert response.data["errors"][0]["field"] == "file"
    assert "no phone column" in response.data["errors"][0]["message"]
    assert response.data["job"]["status"] == "failed"


def test_an_opt_out_revokes_consent_and_suppresses_the_number_at_once(operator_api):
    target = TargetFactory(contact__phone="+13055550177")
    ConsentFactory(contact=target.contact)
    organization = target.campaign.organization

    first = operator_api.post(
        "/api/opt-outs/",
        {"organization": organization.pk, "phone": "305 555 0177", "reason": "asked by email"},
        format="json",
    )
    again = operator_api.post(
        "/api/opt-outs/", {"organization": organization.pk, "phone": "3055550177"}, format="json"
    )

    decision, rules = target_explanation(target, at=timezone.now())
    consent = Consent.objects.get()
    assert first.status_code == 201
    assert first.data == {
        "phone": "+13055550177",
        "consents_revoked": 1,
        "suppression_created": True,
    }
    assert again.status_code == 200
    assert again.data["consents_revoked"] == 0
    assert consent.revoked_via == "api"
    assert Suppression.objects.get().reason == "asked by email"
    assert (decision.verdict, decision.reason) == ("deny", "consent_revoked")
    denials = {rule.name: rule.reason for rule in rules if rule.verdict == "deny"}
    assert denials == {"revocation": "consent_revoked", "suppression": "suppressed"}


def test_suppressions_are_listed_and_an_opt_out_created_there_revokes_consent(operator_api):
    consent = ConsentFactory(contact__phone="+13055550188")
    organization = consent.contact.organization

    internal = operator_api.post(
        "/api/suppressions/",
        {"organization": organization.pk, "phone": "3055550199", "reason": "staff"},
        format="json",
    )
    opt_out = operator_api.post(
        "/api/suppressions/",
        {"organization": organization.pk, "phone": "3055550188", "source": "opt_out"},
        format="json",
    )
    listed = operator_api.get("/api/suppressions/", {"phone": "305-555-0188"})

    consent.refresh_from_db()
    assert (internal.status_code, internal.data["source"]) == (201, "internal")
    assert (opt_out.status_code, opt_out.data["source"]) == (201, "opt_out")
    assert consent.revoked_via == "api"
    assert [row["phone"] for row in listed.data["results"]] == ["+13055550188"]


def test_a_registry_file_uploaded_to_the_api_is_imported_by_a_worker(
    operator_api, tasks_run_here, django_capture_on_commit_callbacks
):
    organization = default_organization()
    upload = SimpleUploadedFile("dnc.txt", b"3052000001\nnot a number\n3052000002\n")

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.post(
            "/api/suppressions/import/",
            {
                "file": upload,
                "organization": organization.pk,
                "source": "national_registry",
                "synced_at": "2026-11-10T00:00:00Z",
                "replaces_previous": "true",
            },
        )
    job = ImportJob.objects.get(pk=response.data["id"])

    assert response.status_code == 202
    assert (job.status, job.created, job.error_count) == ("done", 2, 1)
    assert job.errors == [
        {
            "row": 2,
            "field": "phone",
            "message": "'not a number' is not a valid phone number: the string supplied did "
            "not seem to be a phone number",
        }
    ]
    assert RegistrySync.objects.get().numbers == 2
    assert Suppression.objects.filter(source="national_registry").count() == 2


def test_a_state_list_without_its_state_is_refused_before_upload(operator_api):
    organization = default_organization()

    response = operator_api.post(
        "/api/suppressions/import/",
        {
            "file": SimpleUploadedFile("tx.txt", b"3052000001\n"),
            "organization": organization.pk,
            "source": "state_list",
            "synced_at": "2026-11-10T00:00:00Z",
        },
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": "source", "message": "A state list needs its USPS state code; got ''."}
        ]
    }
    assert not ImportJob.objects.exists()


def test_a_contact_is_created_with_its_consent_and_consent_is_added_later(operator_api):
    created = operator_api.post(
        "/api/contacts/",
        {
            "phone": "3055550150",
            "state": "FL",
            "consents": [
                {
                    "purpose": "informational",
                    "source": "web form",
                    "captured_at": "2026-11-01T12:00:00Z",
                }
            ],
        },
        format="json",
    )
    contact_id = created.json()["id"]
    consent_revoke(
        organization_id=default_organization().pk,
        phone="+13055550150",
        via="call",
        at=datetime(2026, 11, 5, tzinfo=UTC),
    )
    updated = operator_api.patch(
        f"/api/contacts/{contact_id}/",
        {
            "consents": [
                {
                    "purpose": "survey",
                    "source": "front desk",
                    "captured_at": "2026-11-06T09:00:00Z",
                },
                {
                    "purpose": "informational",
                    "source": "paper form",
                    "captured_at": "2026-11-06T09:00:00Z",
                },
            ]
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    assert updated.status_code == 200, updated.json()
    consents = {consent["purpose"]: consent for consent in updated.json()["consents"]}
    assert set(consents) == {"informational", "survey"}
    assert consents["informational"]["source"] == "paper form"
    assert consents["informational"]["revoked_via"] == "call"  # an opt-out stands
    assert consents["survey"]["revoked_at"] is None


def test_a_consent_without_its_source_is_refused_and_nothing_is_created(operator_api):
    response = operator_api.post(
        "/api/contacts/",
        {"phone": "3055550151", "consents": [{"purpose": "survey", "captured_at": "2026-11-01"}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "consents.0.source", "message": "This field is required."}
    ]
    assert not Contact.objects.exists()


def test_only_an_internal_suppression_can_be_deleted(operator_api):
    organization = default_organization()
    internal = Suppression.objects.create(
        organization=organization, phone="+13055550170", source="internal"
    )
    opt_out = Suppression.objects.create(
        organization=organization, phone="+13055550171", source="opt_out"
    )

    deleted = operator_api.delete(f"/api/suppressions/{internal.pk}/")
    kept = operator_api.delete(f"/api/suppressions/{opt_out.pk}/")

    assert deleted.status_code == 204
    assert kept.status_code == 409
    assert kept.json()["errors"] == [
        {
            "field": None,
            "message": "+13055550171 is suppressed as 'Opt-out'; only internal listings can "
            "be deleted.",
        }
    ]
    assert list(Suppression.objects.values_list("phone", flat=True)) == ["+13055550171"]
