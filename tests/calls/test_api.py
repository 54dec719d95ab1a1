"""Phone numbers and calls under /api/: webhook URLs to paste into the carrier's console,
call filters, and a call's transcript, timeline and compliance record."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from calls.models import CallEvent, PhoneNumber, Turn
from tests.api_world import world
from tests.factories import AgentFactory, CallFactory, CampaignFactory, TargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours():
    return world("Bayview Dental", phone_prefix="+1305555")


def test_a_phone_number_shows_the_webhook_urls_to_paste_into_the_carrier(ours, settings):
    settings.PUBLIC_BASE_URL = "https://voice.bayview.example"

    response = ours.api("operator").get(f"/api/phone-numbers/{ours.phone_number.pk}/")

    assert response.json()["webhooks"] == {
        "voice_url": "https://voice.bayview.example/twilio/voice",
        "status_callback_url": "https://voice.bayview.example/twilio/status",
    }


def test_an_admin_adds_an_inbound_line_which_needs_an_agent(ours):
    api = ours.api("admin")

    without_agent = api.post(
        "/api/phone-numbers/", {"number": "+12025550600", "is_inbound": True}, format="json"
    )
    with_agent = api.post(
        "/api/phone-numbers/",
        {"number": "+12025550600", "is_inbound": True, "inbound_agent": ours.agent.pk},
        format="json",
    )

    assert without_agent.status_code == 400
    assert without_agent.json()["errors"] == [
        {"field": "inbound_agent", "message": "An inbound line needs an agent to answer."}
    ]
    assert with_agent.status_code == 201, with_agent.json()
    assert PhoneNumber.objects.get(number="+12025550600").organization == ours.organization


def test_an_agent_still_used_cannot_be_deleted(ours):
    response = ours.api("operator").delete(f"/api/agents/{ours.agent.pk}/")

    assert response.status_code == 409
    assert response.json()["errors"][0]["message"].startswith("It is still used by")
    assert ours.agent.__class__.objects.filter(pk=ours.agent.pk).exists()


def test_calls_are_filtered_by_campaign_status_outcome_direction_answer_and_date(ours):
    other_campaign = CampaignFactory(organization=ours.organization)
    busy = CallFactory(
        target=TargetFactory(campaign=other_campaign, contact__organization=ours.organization),
        status="busy",
    )
    machine = CallFactory(
        target=TargetFactory(campaign=ours.campaign, contact__organization=ours.organization),
        status="completed",
        answered_by="machine_end_beep",
        outcome="voicemail",
    )
    api = ours.api("operator")

    def ids(**params):
        response = api.get("/api/calls/", params)
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["results"])

    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    assert ids(campaign=other_campaign.pk) == [busy.pk]
    assert ids(status="busy") == [busy.pk]
    assert ids(status=["busy", "completed"]) == sorted([busy.pk, machine.pk, ours.call.pk])
    assert ids(outcome="voicemail") == [machine.pk]
    assert ids(answered_by="human") == [ours.call.pk]
    assert ids(direction="inbound") == []
    assert ids(created_after=soon) == []
    assert len(ids(created_before=soon)) == 3


def test_a_bad_call_filter_is_a_400_naming_the_filter(ours):
    response = ours.api("operator").get("/api/calls/", {"status": "exploded"})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "status"
    assert "exploded" in error["message"]


def test_a_call_shows_its_transcript_timeline_and_compliance_record(ours):
    call = ours.call
    call.compliance_ruleset = "us-2026.1"
    call.compliance_zones = ["America/New_York"]
    call.compliance_states = ["FL"]
    call.save()
    Turn.objects.create(call=call, speaker="caller", text="Yes, I'll be there.", started_ms=900)
    CallEvent.objects.create(
        call=call, at=datetime(2026, 11, 24, 18, 59, tzinfo=UTC), kind="status", to_status="ringing"
    )

    detail = ours.api("operator").get(f"/api/calls/{call.pk}/").json()

    assert [(turn["speaker"], turn["text"]) for turn in detail["turns"]] == [
        ("agent", "Hello from Bayview Dental"),
        ("caller", "Yes, I'll be there."),
    ]
    assert [event["to_status"] for event in detail["events"]] == ["ringing", "completed"]
    assert detail["compliance"] == {
        "ruleset": "us-2026.1",
        "zones": ["America/New_York"],
        "states": ["FL"],
    }
    assert detail["campaign"] == ours.campaign.pk


def test_an_agent_with_a_transfer_tool_needs_a_transfer_number(ours):
    AgentFactory(organization=ours.organization, name="Taken")
    api = ours.api("operator")

    no_number = api.post(
        "/api/agents/",
        {"name": "Front desk", "instructions": "Help", "tools": ["transfer_to_human"]},
        format="json",
    )
    taken = api.post("/api/agents/", {"name": "Taken", "instructions": "Hi"}, format="json")

    assert no_number.json()["errors"] == [
        {"field": "transfer_number", "message": "Transfer to a person needs a number."}
    ]
    assert taken.json()["errors"] == [
        {"field": "name", "message": "An agent is already named 'Taken'."}
    ]


def test_an_inbound_call_is_listed_without_a_campaign(ours):
    inbound = CallFactory(
        target=None,
        attempt=None,
        direction="inbound",
        organization=ours.organization,
        agent=ours.agent,
        from_number="+13055550190",
        to_number=ours.phone_number.number,
    )

    response = ours.api("operator").get("/api/calls/", {"direction": "inbound"})

    [row] = response.json()["results"]
    assert (row["id"], row["campaign"], row["target"]) == (inbound.pk, None, None)


def test_an_agents_barge_in_defaults_to_ignoring_acknowledgements_and_is_checked(ours):
    api = ours.api("operator")

    created = api.post("/api/agents/", {"name": "Desk", "instructions": "Hi"}, format="json")
    too_short = api.patch(
        f"/api/agents/{created.json()['id']}/",
        {"barge_in": "immediate", "barge_in_min_speech_ms": 50},
        format="json",
    )
    unknown = api.patch(
        f"/api/agents/{created.json()['id']}/", {"barge_in": "never"}, format="json"
    )

    assert created.status_code == 201, created.json()
    assert (created.json()["barge_in"], created.json()["barge_in_min_speech_ms"]) == (
        "ignore_backchannels",
        600,
    )
    assert too_short.status_code == 400
    assert too_short.json()["errors"][0]["field"] == "barge_in_min_speech_ms"
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "barge_in"
    agent = AgentFactory._meta.model.objects.get(pk=created.json()["id"])
    assert agent.barge_in == "ignore_backchannels"  # neither bad change was kept


def test_a_call_shows_who_answered_its_outcome_in_words_and_its_language(ours):
    fax = CallFactory(
        target=TargetFactory(campaign=ours.campaign, contact__organization=ours.organization),
        status="completed",
        answered_by="fax",
        outcome="fax",
        language="es",
    )

    row = ours.api("operator").get(f"/api/calls/{fax.pk}/").json()

    assert (row["answered_by"], row["answered_by_label"]) == ("fax", "Fax machine")
    assert (row["outcome"], row["outcome_label"]) == ("fax", "Fax machine")
    assert row["language"] == "es"
