"""A campaign with calls is archived, never deleted: it leaves the default lists (admin and
API), stays readable by id, and a deletion is refused with a clear message."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from campaigns.models import Campaign
from tests.factories import CallFactory, CampaignFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ended_with_calls():
    campaign = CampaignFactory(name="Flu shots 2025", status=Campaign.Status.COMPLETED)
    CallFactory(target__campaign=campaign, status="completed")
    return campaign


def test_an_operator_archives_an_ended_campaign_and_it_leaves_the_list(ended_with_calls):
    client = signed_in(member_of("operator", "olivia"))
    CampaignFactory(name="Spring reminders")

    response = client.post(
        f"/admin/campaigns/campaign/{ended_with_calls.pk}/run/archive/", follow=True
    )

    assert "is archived" in text_of(response)
    ended_with_calls.refresh_from_db()
    assert ended_with_calls.archived_at is not None
    listed = text_of(client.get("/admin/campaigns/campaign/"))
    assert "Spring reminders" in listed
    assert "Flu shots 2025" not in listed
    archived = text_of(client.get("/admin/campaigns/campaign/?archived=yes"))
    assert "Flu shots 2025" in archived
    assert "Spring reminders" not in archived


def test_a_running_campaign_cannot_be_archived():
    campaign = CampaignFactory(name="Live one", status=Campaign.Status.RUNNING)
    client = signed_in(member_of("operator", "olivia"))
    response = client.post(f"/admin/campaigns/campaign/{campaign.pk}/run/archive/", follow=True)
    assert "cancel it (or let it complete) before archiving it" in text_of(response)
    campaign.refresh_from_db()
    assert campaign.archived_at is None


def test_deleting_a_campaign_with_calls_is_refused_with_a_clear_message(ended_with_calls):
    admin = User.objects.create_superuser("root", password="pw-root-123-long")
    client = signed_in(admin)

    page = client.get(f"/admin/campaigns/campaign/{ended_with_calls.pk}/delete/", follow=True)
    client.post(f"/admin/campaigns/campaign/{ended_with_calls.pk}/delete/", {"post": "yes"})

    assert "has 1 call(s) on record and cannot be deleted; archive it instead" in text_of(page)
    assert Campaign.objects.filter(pk=ended_with_calls.pk).exists()


def test_a_campaign_without_calls_may_still_be_deleted():
    campaign = CampaignFactory(name="Typo")
    admin = User.objects.create_superuser("root", password="pw-root-123-long")
    signed_in(admin).post(f"/admin/campaigns/campaign/{campaign.pk}/delete/", {"post": "yes"})
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_the_api_archives_and_hides_archived_campaigns_from_the_list(
    operator_api, ended_with_calls
):
    running = CampaignFactory(name="Live one", status=Campaign.Status.RUNNING)

    refused = operator_api.post(f"/api/campaigns/{running.pk}/archive/")
    archived = operator_api.post(f"/api/campaigns/{ended_with_calls.pk}/archive/")
    again = operator_api.post(f"/api/campaigns/{ended_with_calls.pk}/archive/")
    listed = operator_api.get("/api/campaigns/").json()
    only_archived = operator_api.get("/api/campaigns/?archived=true").json()
    by_id = operator_api.get(f"/api/campaigns/{ended_with_calls.pk}/")

    assert refused.status_code == 409
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert again.json()["archived_at"] == archived.json()["archived_at"]
    assert [row["name"] for row in listed["results"]] == ["Live one"]
    assert [row["name"] for row in only_archived["results"]] == ["Flu shots 2025"]
    assert by_id.status_code == 200
