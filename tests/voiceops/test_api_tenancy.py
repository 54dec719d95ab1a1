"""Every API endpoint, asked by one organisation's keys about another organisation's rows:
absent from lists, 404 by id, refused as a destination; finance never writes; operators
never see a cost."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.models import Agent
from calls.models import PhoneNumber
from campaigns.models import Campaign, Contact, Suppression, Survey, Target
from tests.api_world import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours():
    return world("Bayview Dental", phone_prefix="+1305555")


@pytest.fixture
def theirs():
    return world("Harbor Clinic", phone_prefix="+1786555")


LISTS = {
    "/api/contacts/": "contact",
    "/api/imports/": "import_job",
    "/api/suppressions/": "suppression",
    "/api/registry-syncs/": "registry_sync",
    "/api/agents/": "agent",
    "/api/surveys/": "survey",
    "/api/phone-numbers/": "phone_number",
    "/api/campaigns/": "campaign",
    "/api/calls/": "call",
}


@pytest.mark.parametrize("url", LISTS)
def test_a_list_holds_only_the_own_organisations_rows(ours, theirs, url):
    response = ours.api("admin").get(url)

    assert response.status_code == 200, response.json()
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [getattr(ours, LISTS[url]).pk]


def test_a_campaigns_targets_list_holds_only_its_own(ours, theirs):
    response = ours.api("operator").get(f"/api/campaigns/{ours.campaign.pk}/targets/")

    assert [row["id"] for row in response.json()["results"]] == [ours.target.pk]


DETAILS = [
    "/api/contacts/{contact}/",
    "/api/suppressions/{suppression}/",
    "/api/registry-syncs/{registry_sync}/",
    "/api/contacts/{contact}/explain/",
    "/api/imports/{import_job}/",
    "/api/agents/{agent}/",
    "/api/surveys/{survey}/",
    "/api/phone-numbers/{phone_number}/",
    "/api/campaigns/{campaign}/",
    "/api/campaigns/{campaign}/progress/",
    "/api/campaigns/{campaign}/preview/",
    "/api/campaigns/{campaign}/targets/",
    "/api/campaigns/{campaign}/targets/{target}/explain/",
    "/api/calls/{call}/",
]


def url_of(template: str, rows) -> str:
    names = [
        "contact",
        "suppression",
        "registry_sync",
        "import_job",
        "agent",
        "survey",
        "phone_number",
        "campaign",
        "target",
        "call",
    ]
    return template.format(**{name: getattr(rows, name).pk for name in names})


@pytest.mark.parametrize("template", DETAILS)
def test_another_organisations_object_answers_404_and_its_own_200(ours, theirs, template):
    api = ours.api("admin")

    mine = api.get(url_of(template, ours))
    other = api.get(url_of(template, theirs))

    assert mine.status_code == 200, mine.json()
    assert other.status_code == 404
    [error] = other.json()["errors"]
    assert error["field"] is None
    assert error["message"].startswith("No ")
    assert error["message"].endswith(" matches the given query.")
    assert theirs.organization.name not in other.content.decode()


WRITES_TO_AN_OBJECT = [
    ("patch", "/api/contacts/{contact}/", {"name": "Changed"}),
    ("delete", "/api/contacts/{contact}/", None),
    ("delete", "/api/suppressions/{suppression}/", None),
    ("patch", "/api/agents/{agent}/", {"name": "Changed"}),
    ("delete", "/api/surveys/{survey}/", None),
    ("patch", "/api/phone-numbers/{phone_number}/", {"label": "Changed"}),
    ("patch", "/api/campaigns/{campaign}/", {"name": "Changed"}),
    ("post", "/api/campaigns/{campaign}/launch/", None),
    ("post", "/api/campaigns/{campaign}/cancel/", None),
    ("post", "/api/campaigns/{campaign}/targets/", {"all_contacts": True}),
]


@pytest.mark.parametrize(("method", "template", "body"), WRITES_TO_AN_OBJECT)
def test_writing_to_another_organisations_object_answers_404_and_changes_nothing(
    ours, theirs, method, template, body
):
    response = getattr(ours.api("admin"), method)(url_of(template, theirs), body, format="json")

    assert response.status_code == 404
    campaign = Campaign.objects.get(pk=theirs.campaign.pk)
    assert (campaign.name, campaign.status) == ("Harbor Clinic reminders", "draft")
    assert Contact.objects.get(pk=theirs.contact.pk).name == theirs.contact.name
    assert Agent.objects.get(pk=theirs.agent.pk).name == theirs.agent.name
    assert Survey.objects.filter(pk=theirs.survey.pk).exists()
    assert PhoneNumber.objects.get(pk=theirs.phone_number.pk).label == ""
    assert Suppression.objects.filter(pk=theirs.suppression.pk).exists()


def creations(rows) -> list[tuple[str, dict]]:
    return [
        ("/api/contacts/", {"phone": "+17865550777"}),
        ("/api/suppressions/", {"phone": "+17865550778"}),
        ("/api/opt-outs/", {"phone": "+17865550001"}),
        ("/api/agents/", {"name": "Intruder", "instructions": "Hi"}),
        ("/api/surveys/", {"name": "Intruder", "questions": [{"kind": "text", "text": "?"}]}),
        ("/api/phone-numbers/", {"number": "+12025550999"}),
        (
            "/api/campaigns/",
            {"name": "Intruder", "agent": rows.agent.pk, "caller_id": rows.phone_number.pk},
        ),
    ]


@pytest.mark.parametrize("index", range(7))
def test_creating_into_another_organisation_is_refused(ours, theirs, index):
    url, body = creations(theirs)[index]
    before = {
        model: model.objects.filter(**{path: theirs.organization}).count()
        for model, path in [
            (Contact, "organization"),
            (Suppression, "organization"),
            (Agent, "organization"),
            (Survey, "organization"),
            (PhoneNumber, "organization"),
            (Campaign, "organization"),
        ]
    }

    response = ours.api("admin").post(
        url, {**body, "organization": theirs.organization.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "organization"
    assert "is not yours" in response.json()["errors"][0]["message"]
    after = {
        model: model.objects.filter(organization=theirs.organization).count() for model in before
    }
    assert after == before
    assert theirs.contact.consents.get().revoked_at is None


def test_an_upload_into_another_organisation_is_refused(ours, theirs):
    upload = SimpleUploadedFile("c.csv", b"phone\n7865550123\n", content_type="text/csv")

    response = ours.api("operator").post(
        "/api/contacts/import/", {"file": upload, "organization": theirs.organization.pk}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "organization"
    assert not Contact.objects.filter(phone="+17865550123").exists()


def test_a_campaign_cannot_use_another_organisations_agent_or_number(ours, theirs):
    response = ours.api("operator").post(
        "/api/campaigns/",
        {"name": "Mixed", "agent": theirs.agent.pk, "caller_id": theirs.phone_number.pk},
        format="json",
    )

    assert response.status_code == 400
    fields = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert fields == {
        "agent": f'Invalid pk "{theirs.agent.pk}" - object does not exist.',
        "caller_id": f'Invalid pk "{theirs.phone_number.pk}" - object does not exist.',
    }


def test_targets_cannot_be_another_organisations_contacts(ours, theirs):
    response = ours.api("operator").post(
        f"/api/campaigns/{ours.campaign.pk}/targets/",
        {"contact_ids": [theirs.contact.pk]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "contact_ids",
            "message": f"No contact of this organisation has the id {theirs.contact.pk}.",
        }
    ]
    assert Target.objects.filter(campaign=ours.campaign).count() == 1


def test_naming_another_organisation_in_a_list_filter_is_refused(ours, theirs):
    response = ours.api("operator").get("/api/contacts/", {"organization": theirs.organization.pk})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "organization"


FINANCE_WRITES = [
    ("post", "/api/contacts/", {"phone": "+13055550700"}, "operator or admin"),
    ("post", "/api/suppressions/", {"phone": "+13055550701"}, "operator or admin"),
    ("post", "/api/opt-outs/", {"phone": "+13055550001"}, "operator or admin"),
    ("post", "/api/agents/", {"name": "New", "instructions": "Hi"}, "operator or admin"),
    ("patch", "/api/agents/{agent}/", {"name": "Changed"}, "operator or admin"),
    ("post", "/api/surveys/", {"name": "S", "questions": []}, "operator or admin"),
    ("post", "/api/phone-numbers/", {"number": "+12025550998"}, "admin"),
    ("patch", "/api/campaigns/{campaign}/", {"name": "Changed"}, "operator or admin"),
    ("post", "/api/campaigns/{campaign}/launch/", None, "operator or admin"),
    ("post", "/api/campaigns/{campaign}/targets/", {"all_contacts": True}, "operator or admin"),
]


@pytest.mark.parametrize(("method", "template", "body", "roles"), FINANCE_WRITES)
def test_finance_cannot_write_and_is_told_the_role_it_needs(ours, method, template, body, roles):
    response = getattr(ours.api("finance"), method)(url_of(template, ours), body, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {
                "field": None,
                "message": f"This needs the {roles} role in Bayview Dental; yours is finance.",
            }
        ]
    }
    campaign = Campaign.objects.get(pk=ours.campaign.pk)
    assert (campaign.name, campaign.status) == ("Bayview Dental reminders", "draft")
    assert Contact.objects.filter(organization=ours.organization).count() == 1
    assert Agent.objects.get(pk=ours.agent.pk).name == ours.agent.name
    assert ours.contact.consents.get().revoked_at is None


def test_an_operator_cannot_add_a_phone_number(ours):
    response = ours.api("operator").post("/api/phone-numbers/", {"number": "+12025550997"})

    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == (
        "This needs the admin role in Bayview Dental; yours is operator."
    )


COST_FIELDS = {
    "cost_telephony",
    "cost_model",
    "cost_analysis",
    "cost_total",
    "currency",
    "priced_at",
    "audio_input_tokens",
    "text_output_tokens",
}


def test_operators_never_see_a_cost_field_and_finance_does(ours):
    operator, finance = ours.api("operator"), ours.api("finance")
    call = f"/api/calls/{ours.call.pk}/"
    progress = f"/api/campaigns/{ours.campaign.pk}/progress/"

    operator_list = operator.get("/api/calls/").json()["results"][0]
    operator_detail = operator.get(call).json()
    operator_progress = operator.get(progress).json()
    finance_list = finance.get("/api/calls/").json()["results"][0]
    finance_detail = finance.get(call).json()
    finance_progress = finance.get(progress).json()

    assert not COST_FIELDS & set(operator_list)
    assert not (COST_FIELDS | {"cost_entries"}) & set(operator_detail)
    assert "spend" not in operator_progress
    assert "0.014" not in str(operator_detail)
    assert operator_detail["turns"][0]["text"] == "Hello from Bayview Dental"
    assert set(finance_list) >= COST_FIELDS
    assert finance_detail["cost_total"] == "0.014000"
    assert finance_detail["cost_entries"] == [
        {
            "component": "carrier_minute",
            "quantity": "1.0000",
            "unit": "minute",
            "unit_price": "0.014000",
            "amount": "0.014000",
            "currency": "USD",
        }
    ]
    assert finance_progress["spend"] == {
        "spent": "0.014000",
        "budget": None,
        "remaining": None,
        "currency": "USD",
    }


def test_a_bearer_key_reads_several_endpoints_and_basic_auth_is_refused(ours, django_user_model):
    api = ours.api("operator")
    django_user_model.objects.create_superuser("root", password="a-long-password-1")
    basic = base64.b64encode(b"root:a-long-password-1").decode()
    anonymous = ours.api("operator")
    anonymous.credentials(HTTP_AUTHORIZATION=f"Basic {basic}")

    answers = [api.get(url).status_code for url in LISTS if url != "/api/imports/"]
    refused = anonymous.get("/api/contacts/")

    assert answers == [200] * (len(LISTS) - 1)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Bearer"
