"""The call admin names who answered and the outcome in words, and the call's language."""

import html
import re

import pytest
from django.urls import reverse

from tests.factories import CallFactory, member_of

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))).strip()


def test_the_call_list_shows_who_answered_the_outcome_and_the_language_in_words(client):
    operator = member_of("operator", "olivia")
    CallFactory(status="completed", answered_by="fax", outcome="fax", language="es")
    CallFactory(status="completed", answered_by="machine_end_other", outcome="call_screening")
    client.force_login(operator)

    page = text_of(client.get(reverse("admin:calls_call_changelist")))

    rows = page.split("Created at", 1)[1].split("Filter", 1)[0]
    assert "Fax machine - - Fax machine es" in rows
    assert "Call screener: nobody picked up - - Answering machine (message after the greeting)" in (
        rows
    )
    assert "By outcome All Call screener: nobody picked up Fax machine" in page
    assert "By answered by All Person Answering machine" in page
