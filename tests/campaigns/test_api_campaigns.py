"""The campaigns API: surveys with ordered questions, campaigns (create, edit what the
status allows, launch, pause, resume, cancel), their audience, progress and preview, and a
contact's compliance explanation."""

from datetime import UTC, datetime

import pytest

from agents.models import Agent
from calls.models import Call
from campaigns.models import Campaign, Question, Target
from campaigns.revocation import consent_revoke
from tests.factories import (
    AgentFactory,
    CallFactory,
    CampaignFactory,
    ConsentFactory,
    ContactFactory,
    PhoneNumberFactory,
    TargetFactory,
    default_organization,
)

pytestmark = pytest.mark.django_db

TUESDAY_MORNING_EASTERN = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)


def test_it_creates_a_survey_with_its_questions_in_order_and_replaces_them(operator_api):
    created = operator_api.post(
        "/api/surveys/",
        {
            "name": "After the visit",
            "questions": [
                {"kind": "scale", "text": "How was it?", "scale_min": 1, "scale_max": 10},
                {"kind": "choice", "text": "Which clinic?", "choices": ["North", "South"]},
            ],
        },
        format="json",
    )
    replaced = operator_api.patch(
        f"/api/surveys/{created.json()['id']}/",
        {"questions": [{"kind": "yes_no", "text": "Would you come back?"}]},
        format="json",
    )

    assert created.status_code == 201, created.json()
    assert [(q["position"], q["text"]) for q in created.json()["questions"]] == [
        (1, "How was it?"),
        (2, "Which clinic?"),
    ]
    assert replaced.status_code == 200
    assert list(Question.objects.values_list("position", "text")) == [(1, "Would you come back?")]


def test_a_bad_question_is_named_by_its_place(operator_api):
    response = operator_api.post(
        "/api/surveys/",
        {
            "name": "Broken",
            "questions": [
                {"kind": "yes_no", "text": "Fine?"},
                {"kind": "choice", "text": "Which?", "choices": ["Only one"]},
            ],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "field": "questions.1.choices",
                "message": "A choice question needs at least two options.",
            }
        ]
    }
    assert not Question.objects.exists()


def new_campaign(api, **fields):
    organization = default_organization()
    agent = AgentFactory(organization=organization)
    number = PhoneNumberFactory(organization=organization)
    return api.post(
        "/api/campaigns/",
        {"name": "Flu shots", "agent": agent.pk, "caller_id": number.pk, **fields},
        format="json",
    )


def test_it_creates_a_draft_campaign_that_may_change_everything(operator_api, operator):
    response = new_campaign(operator_api, window_start="10:00", window_end="18:00")

    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.created_by, campaign.window_end.hour) == (
        "draft",
        operator,
        18,
    )
    assert "purpose" in response.json()["editable_fields"]


def test_a_campaign_with_bad_settings_is_refused_field_by_field(operator_api):
    response = new_campaign(
        operator_api, kind="survey", window_start="18:00", window_end="09:00", weekdays=[7]
    )

    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"weekdays"}
    response = new_campaign(operator_api, kind="survey", window_start="18:00", window_end="09:00")
    fields = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert fields == {
        "survey": "A survey campaign needs a survey.",
        "window_end": "The calling window must end after it starts.",
        "agent": f"The agent {Agent.objects.latest('pk').name!r} cannot "
        "record survey answers, so this survey campaign would collect none: tick “Record a "
        "survey answer” in the agent's tools, or choose an agent that has it.",
    }
    assert not Campaign.objects.exists()


def test_a_running_campaign_keeps_its_purpose_but_may_change_its_window(operator_api):
    campaign = TargetFactory(campaign__status="running").campaign

    frozen = operator_api.patch(
        f"/api/campaigns/{campaign.pk}/", {"purpose": "survey"}, format="json"
    )
    window = operator_api.patch(
        f"/api/campaigns/{campaign.pk}/", {"window_end": "19:30", "name": "Renamed"}, format="json"
    )

    assert frozen.status_code == 400
    [error] = frozen.json()["errors"]
    assert error["field"] == "purpose"
    assert error["message"].startswith("A running campaign's purpose cannot change; it may")
    assert window.status_code == 200, window.json()
    campaign.refresh_from_db()
    assert (campaign.purpose, campaign.name, str(campaign.window_end)) == (
        "informational",
        "Renamed",
        "19:30:00",
    )


def test_the_lifecycle_runs_and_a_forbidden_step_is_a_409_with_the_reason(operator_api):
    campaign = CampaignFactory(name="Flu shots")
    url = f"/api/campaigns/{campaign.pk}"

    empty = operator_api.post(f"{url}/launch/")
    TargetFactory(campaign=campaign)
    launched = operator_api.post(f"{url}/launch/")
    again = operator_api.post(f"{url}/launch/")
    paused = operator_api.post(f"{url}/pause/")
    resumed = operator_api.post(f"{url}/resume/")
    cancelled = operator_api.post(f"{url}/cancel/")
    after = operator_api.post(f"{url}/resume/")

    assert empty.status_code == 409
    assert empty.json()["errors"] == [
        {"field": None, "message": "Campaign 'Flu shots' has no contacts to call."}
    ]
    assert (launched.status_code, launched.json()["status"]) == (200, "running")
    assert again.status_code == 409
    assert again.json()["errors"][0]["message"] == (
        "Campaign 'Flu shots' is running; it can be launched only when draft."
    )
    assert [paused.json()["status"], resumed.json()["status"], cancelled.json()["status"]] == [
        "paused",
        "running",
        "cancelled",
    ]
    assert after.status_code == 409
    assert Target.objects.get().status == "closed"


def test_targets_are_added_by_ids_by_filter_or_all_and_adding_twice_adds_nothing(operator_api):
    campaign = CampaignFactory()
    florida = ContactFactory.create_batch(3, state="FL", variables={"clinic": "north"})
    texas = ContactFactory(state="TX", variables={"clinic": "south"})
    ContactFactory(state="TX", language="es", variables={"clinic": "north"})
    url = f"/api/campaigns/{campaign.pk}/targets/"

    by_ids = operator_api.post(url, {"contact_ids": [florida[0].pk, texas.pk]}, format="json")
    by_state = operator_api.post(url, {"filter": {"state": "fl"}}, format="json")
    by_variable = operator_api.post(
        url, {"filter": {"variables": {"clinic": "north"}, "language": "es"}}, format="json"
    )
    everyone = operator_api.post(url, {"all_contacts": True}, format="json")
    again = operator_api.post(url, {"all_contacts": True}, format="json")
    listed = operator_api.get(url, {"status": "pending"})
    bad_status = operator_api.get(url, {"status": "asleep"})

    def counts(response):
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == "done"
        return {key: body[key] for key in ("matched", "added", "total")}

    assert counts(by_ids) == {"matched": 2, "added": 2, "total": 2}
    assert counts(by_state) == {"matched": 3, "added": 2, "total": 4}
    assert counts(by_variable) == {"matched": 1, "added": 1, "total": 5}
    assert counts(everyone) == {"matched": 5, "added": 0, "total": 5}
    assert counts(again) == {"matched": 5, "added": 0, "total": 5}
    progress = operator_api.get(again.json()["url"])
    assert progress.json()["added"] == 0
    assert progress.json()["percent"] == 100
    assert listed.json()["count"] == 5
    assert bad_status.json()["errors"] == [
        {"field": "status", "message": "'asleep' is not one of pending, calling, done, closed."}
    ]


def test_adding_targets_needs_exactly_one_way_of_choosing_them(operator_api):
    campaign = CampaignFactory()
    url = f"/api/campaigns/{campaign.pk}/targets/"

    both = operator_api.post(url, {"contact_ids": [1], "all_contacts": True}, format="json")
    none = operator_api.post(url, {}, format="json")
    bad_filter = operator_api.post(url, {"filter": {"zip": "33101"}}, format="json")

    assert both.status_code == none.status_code == bad_filter.status_code == 400
    assert none.json()["errors"] == [
        {
            "field": None,
            "message": "Give exactly one of contact_ids, filter, or all_contacts: true.",
        }
    ]
    assert bad_filter.json()["errors"] == [
        {
            "field": "filter",
            "message": "Unknown filter keys: zip; use import_job, language, search, state, variables.",
        }
    ]
    assert not Target.objects.exists()


def test_an_ended_campaign_takes_no_targets(operator_api):
    campaign = CampaignFactory(status="cancelled", name="Old")
    contact = ContactFactory()

    response = operator_api.post(
        f"/api/campaigns/{campaign.pk}/targets/", {"contact_ids": [contact.pk]}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["message"] == (
        "Campaign 'Old' has ended; it takes no contacts."
    )


def test_progress_counts_targets_by_status_and_outcome_and_calls_under_way(operator_api):
    campaign = CampaignFactory(status="running")
    TargetFactory.create_batch(2, campaign=campaign)
    TargetFactory(campaign=campaign, status="done", outcome="confirmed")
    calling = TargetFactory(campaign=campaign, status="calling")
    CallFactory(target=calling, status="ringing")

    response = operator_api.get(f"/api/campaigns/{campaign.pk}/progress/")

    assert response.json() == {
        "campaign": campaign.pk,
        "name": campaign.name,
        "status": "running",
        "targets": {"pending": 2, "calling": 1, "done": 1, "closed": 0},
        "total": 4,
        "outcomes": {"confirmed": 1},
        "calls_in_progress": 1,
    }
    assert Call.objects.count() == 1


def flu_shots_audience() -> Campaign:
    """Miami is callable on a Tuesday morning, Honolulu is still asleep, one opted out."""
    campaign = CampaignFactory(name="Flu shots")
    miami = TargetFactory(campaign=campaign, contact__phone="+13055550101", contact__state="FL")
    ConsentFactory(contact=miami.contact)
    honolulu = TargetFactory(campaign=campaign, contact__phone="+18085550104", contact__state="")
    ConsentFactory(contact=honolulu.contact)
    opted_out = TargetFactory(campaign=campaign, contact__phone="+13055550106")
    ConsentFactory(contact=opted_out.contact)
    consent_revoke(
        organization_id=campaign.organization_id,
        phone="+13055550106",
        via="call",
        at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    return campaign


def test_the_preview_tells_who_is_callable_deferred_until_when_and_denied_why(operator_api):
    campaign = flu_shots_audience()

    response = operator_api.get(
        f"/api/campaigns/{campaign.pk}/preview/", {"at": "2026-11-17T16:00:00Z"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "at": "2026-11-17T16:00:00Z",
        "callable": 1,
        "deferred": [
            {
                "reason": "outside_hours",
                "count": 1,
                "earliest": "2026-11-17T19:01:00Z",
                "latest": "2026-11-17T19:01:00Z",
            }
        ],
        "denied": [{"reason": "consent_revoked", "count": 1}],
        "not_evaluated": {},
    }


def test_a_contact_is_explained_at_an_instant_with_every_rule_and_the_next_lawful_one(
    operator_api,
):
    campaign = flu_shots_audience()
    honolulu = campaign.targets.get(contact__phone="+18085550104").contact

    response = operator_api.get(
        f"/api/contacts/{honolulu.pk}/explain/", {"at": "2026-11-17T16:00:00"}
    )

    assert response.status_code == 200
    explanation = response.json()
    assert (explanation["verdict"], explanation["reason"]) == ("defer", "outside_hours")
    assert explanation["at"] == "2026-11-17T16:00:00Z"
    assert explanation["next_allowed_at"] == "2026-11-17T19:01:00Z"
    assert {"zone": "Pacific/Honolulu", "local": "2026-11-17T09:01:00-10:00"} in explanation[
        "next_allowed_local"
    ]
    assert explanation["evaluated_for"] == "campaign 'Flu shots' (informational)"
    rules = {rule["name"]: rule["verdict"] for rule in explanation["rules"]}
    assert rules["calling_hours"] == "defer"
    assert rules["consent"] == "allow"


def test_an_explanation_at_a_bad_instant_is_a_400_naming_at(operator_api):
    contact = ContactFactory()

    response = operator_api.get(f"/api/contacts/{contact.pk}/explain/", {"at": "next tuesday"})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "at"
    assert error["message"].startswith("Datetime has wrong format.")


def test_contacts_added_to_a_running_campaign_are_due_at_once(operator_api):
    campaign = TargetFactory(campaign__status="draft").campaign
    launched = operator_api.post(f"/api/campaigns/{campaign.pk}/launch/")
    late = ContactFactory()

    added = operator_api.post(
        f"/api/campaigns/{campaign.pk}/targets/", {"contact_ids": [late.pk]}, format="json"
    )

    campaign.refresh_from_db()
    assert launched.json()["status"] == "running"
    assert {key: added.json()[key] for key in ("matched", "added", "total")} == {
        "matched": 1,
        "added": 1,
        "total": 2,
    }
    target = Target.objects.get(contact=late)
    assert (target.status, target.next_attempt_at) == ("pending", campaign.launched_at)


def test_a_target_is_explained_with_its_campaigns_rules(operator_api):
    campaign = flu_shots_audience()
    opted_out = campaign.targets.get(contact__phone="+13055550106")
    other_campaign = CampaignFactory()
    url = f"/api/campaigns/{campaign.pk}/targets/{opted_out.pk}/explain/"

    response = operator_api.get(url, {"at": "2026-11-17T16:00:00Z"})
    elsewhere = operator_api.get(
        f"/api/campaigns/{other_campaign.pk}/targets/{opted_out.pk}/explain/"
    )

    assert response.status_code == 200
    assert (response.json()["verdict"], response.json()["reason"]) == ("deny", "consent_revoked")
    assert response.json()["contact"] == opted_out.contact_id
    denials = {rule["name"] for rule in response.json()["rules"] if rule["verdict"] == "deny"}
    assert denials == {"revocation", "suppression"}
    assert elsewhere.status_code == 404
