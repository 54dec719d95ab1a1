"""The call page and the call list as operators and finance read them: a conversation with
timestamps and interruptions in words, a timeline in words, the compliance decision, the
ledger with a total for finance only, the recording player; lists with the key columns."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from calls.models import CallEvent, CallStatus, CostEntry, RateCard, Recording, Turn
from tests.factories import CallFactory, OrganizationFactory, TargetFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db

ANSWERED = datetime(2026, 11, 24, 19, 0, 5, tzinfo=UTC)


def a_finished_call(**target_fields):
    """A confirmed reminder call: an interrupted opening, events, a priced ledger and a
    recording, as the call path writes them."""
    target = TargetFactory(
        contact__name="Ada Lovelace", campaign__name="November reminders", **target_fields
    )
    call = CallFactory(
        target=target,
        status=CallStatus.COMPLETED,
        carrier_sid=f"CA{target.pk:032x}",
        answered_at=ANSWERED,
        ended_at=ANSWERED + timedelta(seconds=95),
        duration_seconds=95,
        answered_by="human",
        outcome="confirmed",
        summary="Ada confirmed her appointment on Tuesday.",
        sentiment="positive",
        compliance_ruleset="2026.1",
        compliance_zones=["America/New_York"],
        compliance_states=["NY"],
        cost_total=Decimal("0.061100"),
    )
    Turn.objects.create(
        call=call,
        speaker="agent",
        text="Hello, this is an automated AI assistant calling on behalf of",
        started_ms=300,
        ended_ms=3500,
        interrupted=True,
    )
    Turn.objects.create(
        call=call, speaker="caller", text="Yes, I will be there.", started_ms=64_000
    )
    at = ANSWERED
    CallEvent.objects.create(
        call=call, at=at, kind="status", from_status="ringing", to_status="in_progress"
    )
    CallEvent.objects.create(
        call=call, at=at + timedelta(seconds=3), kind="barge_in", data={"audio_end_ms": 3200}
    )
    CallEvent.objects.create(
        call=call,
        at=at + timedelta(seconds=66),
        kind="tool",
        data={"name": "record_outcome", "arguments": {"outcome": "confirmed"}},
    )
    for component, quantity, unit, price, amount in [
        ("carrier_minute", "2", "minute", "0.014", "0.028"),
        ("amd", "1", "call", "0.0075", "0.0075"),
        ("audio_output", "400", "million_tokens", "64", "0.0256"),
    ]:
        rate = RateCard.objects.get_or_create(
            component=component,
            model="",
            effective_from=datetime(2026, 1, 1, tzinfo=UTC),
            defaults={"unit": unit, "price": Decimal(price)},
        )[0]
        CostEntry.objects.create(
            call=call,
            component=component,
            quantity=Decimal(quantity),
            unit=unit,
            unit_price=Decimal(price),
            amount=Decimal(amount),
            rate_card=rate,
        )
    recording = Recording.objects.create(
        call=call,
        sid="RE" + "4" * 32,
        status="completed",
        duration_seconds=95,
        channels=2,
        carrier_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE44",
    )
    return call, recording


def page_of(client, user, call):
    client.force_login(user)
    return client.get(reverse("admin:calls_call_change", args=[call.pk]))


def test_an_operator_reads_the_call_as_a_conversation_without_its_costs(client):
    call, recording = a_finished_call()

    response = page_of(client, member_of("operator", "olivia"), call)
    text = text_of(response)

    assert response.status_code == 200
    assert "Outcome Confirmed" in text
    assert "Duration 01:35" in text
    assert "Answered by A person" in text
    assert "Campaign November reminders" in text
    assert "Ada Lovelace" in text
    assert "Ada confirmed her appointment on Tuesday." in text
    assert "Sentiment Positive" in text
    assert "Agent · 00:00 Hello, this is an automated AI assistant" in text
    assert "Interrupted by the caller after 3.2 s" in text
    assert "Caller · 01:04 Yes, I will be there." in text
    assert "Ringing → In progress" in text
    assert "00:03 The caller interrupted the agent after 3.2 s" in text
    assert "The agent recorded the outcome: Confirmed" in text
    assert "Allowed at the dial, checked against rule set 2026.1" in text
    assert "America/New_York" in text
    for cost_word in ("Cost ledger", "Total", "0.0611", "Carrier minutes", "Unit price"):
        assert cost_word not in text, cost_word
    audio = reverse("admin:calls_call_recording_audio", args=[call.pk, recording.pk])
    assert f'<audio controls preload="none" src="{audio}"' in response.content.decode()
    assert "confirmed" not in text.replace("Confirmed", "").replace("confirmed her", "")


def test_finance_reads_the_ledger_with_units_currency_and_a_total(client):
    call, _ = a_finished_call()

    text = text_of(page_of(client, member_of("finance", "fiona"), call))

    assert "Cost ledger" in text
    assert "Carrier minutes 2 minutes 0.014000 USD per minute 0.028000 USD" in text
    assert "Answering-machine detection 1 call 0.007500 USD per call 0.007500 USD" in text
    assert "Model audio output 400 tokens 64.000000 USD per million tokens 0.025600 USD" in text
    assert "Total 0.061100 USD" in text
    assert "Cost 0.0611 USD" in text


def test_raw_fields_sit_in_a_collapsed_technical_section(client):
    call, _ = a_finished_call()

    page = page_of(client, member_of("operator", "olivia"), call).content.decode()

    technical = page.index('id="call-technical"')
    assert page.index("<details>", technical) < page.index("Audio output tokens", technical)
    assert "<details open" not in page


def test_another_organisations_call_page_and_recording_answer_404(client):
    call, recording = a_finished_call()
    stranger = member_of("finance", "harbor", organization=OrganizationFactory(name="Harbor"))
    client.force_login(stranger)

    page = client.get(reverse("admin:calls_call_change", args=[call.pk]))
    audio = client.get(reverse("admin:calls_call_recording_audio", args=[call.pk, recording.pk]))

    assert (page.status_code, audio.status_code) == (404, 404)


def test_the_call_list_shows_campaign_contact_duration_and_outcome_and_cost_to_finance(client):
    a_finished_call()
    url = reverse("admin:calls_call_changelist")

    client.force_login(member_of("operator", "olivia"))
    operator_page = client.get(url)
    client.force_login(member_of("finance", "fiona"))
    finance_page = client.get(url)

    operator_text, finance_text = text_of(operator_page), text_of(finance_page)
    for text in (operator_text, finance_text):
        assert "November reminders" in text
        assert "Ada Lovelace" in text
        assert "01:35" in text
        assert "Confirmed" in text
    assert "0.0611 USD" in finance_text
    assert "0.0611" not in operator_text
    assert "column-cost" in finance_page.content.decode()
    assert "column-cost" not in operator_page.content.decode()


def test_the_call_list_filters_by_day_range_both_days_included_and_by_campaign(client):
    call, _ = a_finished_call()
    other = CallFactory(target=TargetFactory(campaign__name="Flu shots"))
    day = call.created_at.date()
    client.force_login(member_of("operator", "olivia"))
    url = reverse("admin:calls_call_changelist")

    same_day = client.get(
        url, {"created_at_from": day.isoformat(), "created_at_to": day.isoformat()}
    )
    next_day = client.get(url, {"created_at_from": (day + timedelta(days=1)).isoformat()})
    by_campaign = client.get(url, {"target__campaign__id__exact": call.target.campaign_id})

    assert {row.pk for row in same_day.context["cl"].result_list} == {call.pk, other.pk}
    assert list(next_day.context["cl"].result_list) == []
    assert [row.pk for row in by_campaign.context["cl"].result_list] == [call.pk]
