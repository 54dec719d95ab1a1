"""Launch refuses a campaign whose organisation lacks what every call and voicemail states."""

import pytest
from django.utils import timezone

from campaigns.lifecycle import CampaignStateError, campaign_launch
from campaigns.models import Campaign
from tests.factories import CampaignFactory, OrganizationFactory, TargetFactory

pytestmark = pytest.mark.django_db


def test_a_campaign_of_an_organisation_without_a_callback_number_does_not_launch():
    organization = OrganizationFactory(name="Bayview Dental", callback_number="")
    campaign = CampaignFactory(organization=organization)
    TargetFactory(campaign=campaign)

    with pytest.raises(CampaignStateError) as refused:
        campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    assert str(refused.value) == (
        "The organisation 'Bayview Dental' has no callback number; every call and voicemail "
        "states its business name and callback number, so set the callback number first."
    )
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
