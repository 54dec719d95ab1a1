"""The cost ledger: every billed component, each priced from the rate-card row for the model
that produced it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from agents.realtime import TRANSCRIPTION_MODEL
from agents.tools import default_registry
from calls.call_setup import call_setup_load
from calls.costs import call_price, usage_from_transcription
from calls.models import CallStatus, CostEntry, RateCard
from tests.factories import AgentFactory, CallFactory, CampaignFactory, TargetFactory

pytestmark = pytest.mark.django_db

ANSWERED = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)


def ended_call(*, agent_model: str = "", **fields):
    agent = AgentFactory(model=agent_model)
    target = TargetFactory(campaign=CampaignFactory(organization=agent.organization, agent=agent))
    return CallFactory(
        target=target,
        status=CallStatus.COMPLETED,
        answered_at=ANSWERED,
        ended_at=ANSWERED + timedelta(seconds=30),
        duration_seconds=30,
        **fields,
    )


def test_a_call_is_priced_with_the_model_its_session_ran_on(settings):
    settings.OPENAI_REALTIME_MODEL = "gpt-realtime-2.1"
    call = ended_call(realtime_model="gpt-realtime-2.1-mini", audio_output_tokens=1_000_000)

    priced = call_price(call_id=call.pk)

    line = CostEntry.objects.get(call=call, component="audio_output")
    assert line.amount == Decimal("20.00")  # the mini model's rate, not the agent default's 64
    assert line.rate_card.model == "gpt-realtime-2.1-mini"
    assert priced.cost_model == Decimal("20.00")


def test_a_call_without_a_recorded_model_is_priced_with_the_default_its_session_would_use(
    settings,
):
    settings.OPENAI_REALTIME_MODEL = "gpt-realtime-2.1-mini"
    call = ended_call(audio_output_tokens=1_000_000)

    call_price(call_id=call.pk)

    assert CostEntry.objects.get(call=call, component="audio_output").amount == Decimal("20.00")


def test_setting_up_the_session_records_the_models_it_runs_on(settings):
    settings.OPENAI_REALTIME_MODEL = "gpt-realtime-2.1-mini"
    call = ended_call(carrier_sid="CA" + "1" * 32)
    call.status = CallStatus.IN_PROGRESS
    call.save()

    setup = call_setup_load(
        call_id=call.pk, call_sid=call.carrier_sid, registry=default_registry(), at=ANSWERED
    )

    call.refresh_from_db()
    assert setup.model == call.realtime_model == "gpt-realtime-2.1-mini"
    assert call.transcription_model == TRANSCRIPTION_MODEL
    assert setup.rates.price("transcription_minute").price == Decimal("0.017")


def test_input_transcription_is_a_ledger_line_priced_per_minute():
    call = ended_call(transcription_audio_ms=90_000, audio_input_tokens=900)

    priced = call_price(call_id=call.pk)

    line = CostEntry.objects.get(call=call, component="transcription_minute")
    assert (line.quantity, line.unit, line.amount) == (
        Decimal("1.5"), RateCard.Unit.MINUTE, Decimal("0.025500")
    )  # fmt: skip
    assert line.rate_card.component == "transcription_minute"
    total = CostEntry.objects.filter(call=call).aggregate(total=Sum("amount"))["total"]
    assert total == priced.cost_total


def test_a_row_for_the_transcription_model_wins_over_the_row_for_every_model():
    special = RateCard.objects.create(
        component="transcription_minute",
        model=TRANSCRIPTION_MODEL,
        unit=RateCard.Unit.MINUTE,
        price=Decimal("0.0100"),
        effective_from=datetime(2026, 6, 1, tzinfo=UTC),
    )
    # A row for the Realtime model's name must not price transcription.
    RateCard.objects.create(
        component="transcription_minute",
        model="gpt-realtime-2.1",
        unit=RateCard.Unit.MINUTE,
        price=Decimal("9.0000"),
        effective_from=datetime(2026, 6, 1, tzinfo=UTC),
    )
    call = ended_call(
        realtime_model="gpt-realtime-2.1",
        transcription_model=TRANSCRIPTION_MODEL,
        transcription_audio_ms=60_000,
    )

    call_price(call_id=call.pk)

    assert CostEntry.objects.get(call=call, component="transcription_minute").rate_card == special


def test_every_ledger_line_names_the_rate_card_row_it_used():
    call = ended_call(
        audio_input_tokens=5000,
        audio_input_cached_tokens=1000,
        audio_output_tokens=4000,
        text_input_tokens=2000,
        text_output_tokens=300,
        transcription_audio_ms=12_000,
        analysis_input_tokens=800,
        analysis_output_tokens=120,
    )

    priced = call_price(call_id=call.pk)

    entries = list(CostEntry.objects.filter(call=call).select_related("rate_card"))
    assert {entry.component for entry in entries} == {
        "carrier_minute", "media_stream_minute", "amd", "audio_input", "audio_input_cached",
        "audio_output", "text_input", "text_output", "transcription_minute", "analysis_input",
        "analysis_output",
    }  # fmt: skip
    for entry in entries:
        assert entry.rate_card.component == entry.component
        assert entry.unit_price == entry.rate_card.price
    assert sum(entry.amount for entry in entries) == priced.cost_total


def test_transcription_usage_is_read_from_the_duration_the_model_reports():
    assert usage_from_transcription(
        {"type": "duration", "seconds": 2.345}
    ).transcription_audio_ms == (2345)
    assert (
        usage_from_transcription({"type": "tokens", "input_tokens": 40}).transcription_audio_ms == 0
    )
    assert usage_from_transcription(None).transcription_audio_ms == 0
    assert (
        usage_from_transcription({"type": "duration", "seconds": "x"}).transcription_audio_ms == 0
    )
