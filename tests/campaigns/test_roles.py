"""Roles: operators run campaigns; finance reads calls and costs and changes nothing."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from campaigns.models import Campaign
from tests.factories import CallFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def member_of(group: str) -> User:
    user = User.objects.create_user(group, password=f"pw-{group}-123", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_a_finance_user_cannot_change_a_campaign(client):
    campaign = CampaignFactory(name="Flu shots")
    client.force_login(member_of("finance"))
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    page = client.get(url)
    posted = client.post(url, {"name": "Renamed by finance"})

    assert page.status_code == 200
    assert b"Save" not in page.content  # shown read-only
    assert posted.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Flu shots"
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403


def test_an_operator_can_change_a_campaign_but_cannot_read_costs(client):
    call = CallFactory()
    client.force_login(member_of("operators"))

    campaign_page = client.get(
        reverse("admin:campaigns_campaign_change", args=[call.target.campaign.pk])
    )
    call_page = client.get(reverse("admin:calls_call_change", args=[call.pk]))
    ledger = client.get(reverse("admin:calls_costentry_changelist"))

    assert campaign_page.status_code == 200
    assert b'name="_save"' in campaign_page.content
    assert call_page.status_code == 200
    assert b"Cost total" not in call_page.content
    assert ledger.status_code == 403


def test_finance_reads_calls_with_their_costs(client):
    call = CallFactory(cost_total="0.123400")
    client.force_login(member_of("finance"))

    call_page = client.get(reverse("admin:calls_call_change", args=[call.pk]))
    ledger = client.get(reverse("admin:calls_costentry_changelist"))

    assert call_page.status_code == 200
    assert b"Cost total" in call_page.content
    assert b"0.123400" in call_page.content
    assert ledger.status_code == 200


def test_the_roles_exist_after_migration():
    operators = set(
        Group.objects.get(name="operators").permissions.values_list("codename", flat=True)
    )
    finance = set(Group.objects.get(name="finance").permissions.values_list("codename", flat=True))

    assert {"add_campaign", "change_campaign", "change_contact", "change_agent"} <= operators
    assert "view_costentry" not in operators
    assert {"view_call", "view_costentry", "view_ratecard"} <= finance
    assert not {code for code in finance if not code.startswith("view_")}
    assert Campaign.objects.count() == 0
