"""The admin's audience pages: explanations, campaign preview, revocation, imports and the
campaign lifecycle buttons, through the Django test client."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Campaign, Consent, Contact, ImportJob, RegistrySync, Suppression
from campaigns.revocation import consent_revoke
from tests.factories import (
    CampaignFactory,
    ConsentFactory,
    ContactFactory,
    TargetFactory,
    member_of,
)
from tests.pages import text_of

pytestmark = pytest.mark.django_db

TUESDAY = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)  # 11:00 Miami, 08:00 San Francisco
SATURDAY = "2026-11-21T16:00"


@pytest.fixture
def campaign():
    """Six pending targets, as the preview should count them on Tuesday morning."""
    campaign = CampaignFactory(name="Flu shots")
    for phone, state, consented in [
        ("+13055550101", "FL", True),  # Miami: callable
        ("+13055550102", "FL", True),  # Miami: callable
        ("+14155550103", "", True),  # San Francisco, 08:00: outside hours until 09:01 PT
        ("+18085550104", "", True),  # Honolulu, 06:00: outside hours until 09:01 HST
        ("+13055550105", "FL", False),  # no consent
        ("+13055550106", "FL", True),  # opted out
    ]:
        target = TargetFactory(campaign=campaign, contact__phone=phone, contact__state=state)
        if consented:
            ConsentFactory(contact=target.contact)
    consent_revoke(
        organization_id=campaign.organization_id, phone="+13055550106", via="call", at=TUESDAY
    )
    return campaign


def test_the_preview_counts_callable_deferred_and_denied_targets(client, operator, campaign):
    client.force_login(operator)

    page = client.get(
        reverse("admin:campaigns_campaign_preview", args=[campaign.pk]), {"at": "2026-11-17T16:00"}
    )

    text = text_of(page)
    assert page.status_code == 200
    assert "Callable now 2 Deferred 2 Denied 2" in text
    assert "Outside calling hours 2 Tue 2026-11-17 17:01 Tue 2026-11-17 19:01" in text
    assert "No consent on record 1" in text
    assert "Consent revoked 1" in text


def test_a_contact_explanation_shows_the_decision_and_every_rule(client, operator, campaign):
    contact = Contact.objects.get(phone="+13055550101")
    client.force_login(operator)

    page = client.get(
        reverse("admin:campaigns_contact_explanation", args=[contact.pk]),
        {"campaign": campaign.pk, "at": SATURDAY},
    )

    text = text_of(page)
    assert page.status_code == 200
    assert "Decision at Sat 2026-11-21 16:00 UTC, for campaign 'Flu shots' (informational)" in text
    assert "Verdict Not yet: call later Reason Outside the campaign's dates" in text
    assert "Next allowed Mon 2026-11-23 15:01 UTC" in text
    assert "Mon 2026-11-23 09:01 CST in America/Chicago" in text
    assert "Mon 2026-11-23 10:01 EST in America/New_York" in text
    assert "Rule set us-2026-11-01" in text
    assert "Candidate zones America/Chicago, America/New_York Candidate states FL" in text
    assert "Consent Allowed express consent for this informational call" in text
    assert (
        "Campaign dates Not yet: call later Outside the campaign's dates Mon 2026-11-23 15:01"
        in text
    )


def test_a_contact_can_be_explained_for_a_purpose_without_a_campaign(client, operator, campaign):
    contact = Contact.objects.get(phone="+13055550101")
    client.force_login(operator)

    page = client.get(
        reverse("admin:campaigns_contact_explanation", args=[contact.pk]),
        {"purpose": "survey", "at": SATURDAY},
    )

    text = text_of(page)
    assert "for the purpose survey alone (no campaign)" in text
    assert "Verdict Refused Reason No consent on record" in text


def test_an_operator_revokes_consent_from_the_contact_list_and_the_target_says_so(
    client, operator, campaign
):
    target = campaign.targets.get(contact__phone="+13055550101")
    client.force_login(operator)

    response = client.post(
        reverse("admin:campaigns_contact_changelist"),
        {"action": "record_opt_out", "_selected_action": [target.contact_id]},
        follow=True,
    )
    page = client.get(reverse("admin:campaigns_target_explanation", args=[target.pk]))

    consent = Consent.objects.get(contact=target.contact)
    text = text_of(page)
    assert "1 consent(s) revoked, 1 number(s) newly suppressed" in text_of(response)
    assert consent.revoked_via == "operator"
    assert Suppression.objects.filter(phone="+13055550101", source="opt_out").exists()
    assert "Verdict Refused Reason Consent revoked" in text
    assert "Consent not revoked Refused Consent revoked the consent was revoked" in text
    assert (
        "Suppression list Refused On the suppression list on the organisation's suppression list"
        in text
    )


def test_revoking_one_consent_revokes_every_consent_of_the_number(client, operator):
    contact = ContactFactory(phone="+13055550111")
    reminders = ConsentFactory(contact=contact, purpose="informational")
    ConsentFactory(contact=contact, purpose="survey")
    client.force_login(operator)

    client.post(
        reverse("admin:campaigns_consent_changelist"),
        {"action": "revoke", "_selected_action": [reminders.pk]},
    )

    assert set(Consent.objects.values_list("purpose", "revoked_via")) == {
        ("informational", "operator"),
        ("survey", "operator"),
    }
    assert Suppression.objects.get().phone == "+13055550111"


def test_finance_cannot_revoke_consent(client):
    contact = ContactFactory()
    ConsentFactory(contact=contact)
    client.force_login(member_of("finance"))

    response = client.post(
        reverse("admin:campaigns_contact_changelist"),
        {"action": "record_opt_out", "_selected_action": [contact.pk]},
    )

    assert response.status_code == 403
    assert not Suppression.objects.exists()


def test_the_lifecycle_buttons_launch_and_pause_a_campaign(client, operator, campaign):
    client.force_login(operator)
    change_page = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    before = client.get(change_page)
    launched = client.post(
        reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, "launch"]), follow=True
    )
    resumed = client.post(
        reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, "resume"]), follow=True
    )
    client.post(reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, "pause"]))

    campaign.refresh_from_db()
    assert b'value="launch"' in before.content
    assert "Campaign 'Flu shots' is now running." in text_of(launched)
    assert "Campaign 'Flu shots' is running; it can be" in text_of(resumed)
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.launched_at is not None


def test_a_user_without_change_campaign_cannot_use_the_buttons(client, campaign):
    client.force_login(member_of("finance"))

    response = client.post(
        reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, "launch"])
    )
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    campaign.refresh_from_db()
    assert response.status_code == 403
    assert campaign.status == Campaign.Status.DRAFT
    assert b'value="launch"' not in page.content
    assert "Preview" in text_of(page)


def test_contacts_are_added_to_a_campaign_from_the_contact_list(client, operator, campaign):
    newcomers = ContactFactory.create_batch(3, organization=campaign.organization)
    already = campaign.targets.first().contact
    client.force_login(operator)
    selected = [contact.pk for contact in [*newcomers, already]]

    chooser = client.post(
        reverse("admin:campaigns_contact_changelist"),
        {"action": "add_to_campaign", "_selected_action": selected},
    )
    done = client.post(
        reverse("admin:campaigns_contact_changelist"),
        {
            "action": "add_to_campaign",
            "_selected_action": selected,
            "apply": "1",
            "campaign": campaign.pk,
        },
        follow=True,
    )

    assert "Add 4 contacts to" in text_of(chooser)
    assert "3 contact(s) added to 'Flu shots'; 1 were already in it" in text_of(done)
    assert campaign.targets.count() == 9


def test_a_contact_file_uploaded_in_the_admin_is_imported_and_its_progress_shown(
    client, operator, campaign, tasks_run_here, django_capture_on_commit_callbacks
):
    client.force_login(operator)
    upload = SimpleUploadedFile(
        "october.csv", b"phone,name\n3055550150,Hal\n3055550151,Ida\n555-12,Bad\n"
    )

    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(
            reverse("admin:campaigns_contact_import"),
            {"organization": campaign.organization_id, "file": upload},
        )
    job = ImportJob.objects.get()
    page = client.get(posted["Location"])

    text = text_of(page)
    assert posted["Location"] == reverse("admin:campaigns_importjob_progress", args=[job.pk])
    assert "Done" in text
    assert "Rows 3 Processed 3 Created 2 Updated 0 Unchanged 0 Rows refused 1" in text
    assert "4 phone '555-12' is not a valid phone number" in text
    assert b'http-equiv="refresh"' not in page.content
    assert Contact.objects.filter(phone__in=["+13055550150", "+13055550151"]).count() == 2


def test_the_progress_page_refreshes_while_the_import_waits(client, operator, campaign):
    client.force_login(operator)
    upload = SimpleUploadedFile("big.csv", b"phone\n3055550160\n")

    posted = client.post(
        reverse("admin:campaigns_contact_import"),
        {"organization": campaign.organization_id, "file": upload},
    )
    page = client.get(posted["Location"])

    assert "Waiting for a worker" in text_of(page)
    assert b'<meta http-equiv="refresh" content="2">' in page.content


def test_a_registry_copy_uploaded_in_the_admin_records_its_sync(
    client, operator, campaign, tasks_run_here, django_capture_on_commit_callbacks
):
    client.force_login(operator)
    upload = SimpleUploadedFile("dnc.txt", b"3052000001\n3052000002\nbad\n")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:campaigns_suppression_import"),
            {
                "organization": campaign.organization_id,
                "source": "national_registry",
                "synced_at": "2026-11-10",
                "file": upload,
            },
        )

    sync = RegistrySync.objects.get()
    job = ImportJob.objects.get()
    assert (job.status, job.created, job.error_count) == ("done", 2, 1)
    assert (sync.synced_at, sync.numbers) == (datetime(2026, 11, 10, tzinfo=UTC), 2)


def test_a_registry_upload_without_its_date_is_refused_on_the_form(client, operator, campaign):
    client.force_login(operator)

    page = client.post(
        reverse("admin:campaigns_suppression_import"),
        {
            "organization": campaign.organization_id,
            "source": "national_registry",
            "file": SimpleUploadedFile("dnc.txt", b"3052000001\n"),
        },
    )

    assert "A registry copy needs the registry's own date" in text_of(page)
    assert not ImportJob.objects.exists()


def test_an_operator_cannot_undo_a_revocation_by_editing_the_consent(client, operator):
    consent = ConsentFactory(contact__phone="+13055550190")
    consent_revoke(
        organization_id=consent.contact.organization_id,
        phone="+13055550190",
        via="call",
        at=TUESDAY,
    )
    client.force_login(operator)
    url = reverse("admin:campaigns_consent_change", args=[consent.pk])

    page = client.get(url)
    client.post(
        url,
        {
            "contact": consent.contact_id,
            "purpose": "informational",
            "source": "web form",
            "captured_at_0": "2026-01-05",
            "captured_at_1": "15:00:00",
            "revoked_at_0": "",
            "revoked_at_1": "",
            "revoked_via": "",
        },
    )

    consent.refresh_from_db()
    assert b'name="revoked_at_0"' not in page.content
    assert (consent.revoked_at, consent.revoked_via) == (TUESDAY, "call")


def test_an_opt_out_added_by_hand_revokes_the_numbers_consent_too(client, operator):
    consent = ConsentFactory(contact__phone="+13055550191")
    client.force_login(operator)

    client.post(
        reverse("admin:campaigns_suppression_add"),
        {
            "organization": consent.contact.organization_id,
            "phone": "+13055550191",
            "source": "opt_out",
            "state": "",
            "reason": "asked at the front desk",
        },
    )

    consent.refresh_from_db()
    assert consent.revoked_via == "operator"
    assert Suppression.objects.get().reason == "asked at the front desk"
