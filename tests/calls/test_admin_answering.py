"""The call admin names who answered and the outcome in words, and the call's language."""

import pytest
from django.urls import reverse

from tests.factories import CallFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def test_the_call_list_shows_the_outcome_in_words_and_filters_by_who_answered(client):
    CallFactory(status="completed", answered_by="fax", outcome="fax", language="es")
    CallFactory(status="completed", answered_by="machine_end_other", outcome="call_screening")
    client.force_login(member_of("operator", "olivia"))

    page = text_of(client.get(reverse("admin:calls_call_changelist")))

    assert "Fax machine" in page
    assert "Call screener: nobody picked up" in page
    assert "call_screening" not in page
    assert "Person" in page.split("answered by", 1)[1]  # the filter's choices, in words


def test_the_call_page_names_who_answered_and_the_language_used(client):
    call = CallFactory(status="completed", answered_by="fax", outcome="fax", language="es")
    client.force_login(member_of("operator", "olivia"))

    page = text_of(client.get(reverse("admin:calls_call_change", args=[call.pk])))

    assert "Answered by Fax machine" in page
    assert "Language es" in page
