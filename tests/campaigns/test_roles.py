"""Roles: operators run campaigns; finance reads calls and costs and changes nothing."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tenancy.roles import role_permissions
from tests.factories import CallFactory, CampaignFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


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
    client.force_login(member_of("operator"))

    campaign_page = client.get(
        reverse("admin:campaigns_campaign_change", args=[call.target.campaign.pk])
    )
    call_page = client.get(reverse("admin:calls_call_change", args=[call.pk]))
    ledger = client.get(reverse("admin:calls_costentry_changelist"))

    assert campaign_page.status_code == 200
    assert b'name="_save"' in campaign_page.content
    assert call_page.status_code == 200
    assert b'id="call-cost"' not in call_page.content
    assert "Cost ledger" not in text_of(call_page)
    assert ledger.status_code == 403


def test_finance_reads_calls_with_their_costs(client):
    call = CallFactory(cost_total="0.123400")
    client.force_login(member_of("finance"))

    call_page = client.get(reverse("admin:calls_call_change", args=[call.pk]))
    ledger = client.get(reverse("admin:calls_costentry_changelist"))

    assert call_page.status_code == 200
    assert "Cost 0.1234 USD" in text_of(call_page)
    assert "Cost ledger" in text_of(call_page)
    assert ledger.status_code == 200


def test_roles_replace_the_old_groups():
    operator = role_permissions("operator")
    finance = role_permissions("finance")
    admin = role_permissions("admin")

    assert {
        "campaigns.add_campaign",
        "campaigns.change_campaign",
        "campaigns.change_contact",
        "agents.change_agent",
    } <= operator
    assert "calls.view_costentry" not in operator
    assert {"calls.view_call", "calls.view_costentry", "calls.view_ratecard"} <= finance
    assert not {name for name in finance if ".view_" not in name}
    assert operator | finance <= admin
    assert {"tenancy.add_apikey", "tenancy.add_membership"} <= admin - operator - finance
    assert not Group.objects.filter(name__in=["operators", "finance"]).exists()


def test_group_permissions_grant_nothing_outside_a_role(client):
    """A permission given through a group or to the user directly does not bypass roles."""
    from django.contrib.auth.models import Permission

    user = member_of("finance")
    group = Group.objects.create(name="legacy editors")
    group.permissions.add(Permission.objects.get(codename="change_campaign"))
    user.groups.add(group)
    campaign = CampaignFactory(name="Flu shots")
    client.force_login(user)

    posted = client.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]), {"name": "Renamed"}
    )

    assert posted.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Flu shots"
