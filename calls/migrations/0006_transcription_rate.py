"""The input transcription price (gpt-realtime-whisper and gpt-live-transcribe list at
0.017 USD a minute, late 2026), for every transcription model until a specific row says
otherwise."""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations

EFFECTIVE_FROM = datetime(2026, 1, 1, tzinfo=UTC)


def seed(apps, schema_editor):
    apps.get_model("calls", "RateCard").objects.get_or_create(
        component="transcription_minute",
        model="",
        effective_from=EFFECTIVE_FROM,
        defaults={"unit": "minute", "price": Decimal("0.0170"), "currency": "USD"},
    )


def unseed(apps, schema_editor):
    apps.get_model("calls", "RateCard").objects.filter(
        component="transcription_minute", model="", effective_from=EFFECTIVE_FROM
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("calls", "0005_call_analysis_transcription_and_survey_answers")]

    operations = [migrations.RunPython(seed, unseed)]
