"""A starting rate card (US list prices, late 2026) so calls are priced from day one.

Operators replace these with their contract prices by adding rows with a later
`effective_from`; earlier calls keep the prices in force when they were made.
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations

EFFECTIVE_FROM = datetime(2026, 1, 1, tzinfo=UTC)

RATES = [
    ("carrier_minute", "", "minute", "0.0140"),
    ("media_stream_minute", "", "minute", "0.0040"),
    ("amd", "", "call", "0.0075"),
    ("audio_input", "", "million_tokens", "32.00"),
    ("audio_input_cached", "", "million_tokens", "0.40"),
    ("audio_output", "", "million_tokens", "64.00"),
    ("text_input", "", "million_tokens", "4.00"),
    ("text_input_cached", "", "million_tokens", "0.40"),
    ("text_output", "", "million_tokens", "24.00"),
    ("audio_input", "gpt-realtime-2.1-mini", "million_tokens", "10.00"),
    ("audio_input_cached", "gpt-realtime-2.1-mini", "million_tokens", "0.30"),
    ("audio_output", "gpt-realtime-2.1-mini", "million_tokens", "20.00"),
    ("text_input", "gpt-realtime-2.1-mini", "million_tokens", "0.60"),
    ("text_input_cached", "gpt-realtime-2.1-mini", "million_tokens", "0.06"),
    ("text_output", "gpt-realtime-2.1-mini", "million_tokens", "2.40"),
    ("analysis_input", "", "million_tokens", "0.25"),
    ("analysis_output", "", "million_tokens", "2.00"),
]


def seed(apps, schema_editor):
    RateCard = apps.get_model("calls", "RateCard")
    for component, model, unit, price in RATES:
        RateCard.objects.get_or_create(
            component=component,
            model=model,
            effective_from=EFFECTIVE_FROM,
            defaults={"unit": unit, "price": Decimal(price), "currency": "USD"},
        )


def unseed(apps, schema_editor):
    apps.get_model("calls", "RateCard").objects.filter(effective_from=EFFECTIVE_FROM).delete()


class Migration(migrations.Migration):
    dependencies = [("calls", "0003_call_media_end_and_rate_models")]

    operations = [migrations.RunPython(seed, unseed)]
