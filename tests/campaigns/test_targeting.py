"""Adding contacts to a campaign in bulk: the service the admin and the API share, its job
and progress, and the admin's "Add to campaign…" with "select all" across pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle import CampaignStateError, campaign_cancel
from campaigns.models import Contact, Target, TargetingJob
from campaigns.targeting import InvalidSelection, campaign_add_targets, targeting_jobs_resume
from tests.factories import CampaignFactory, ContactFactory, OrganizationFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def contacts(organization, count: int, *, state="FL", language="en", variables=None, start=0):
    """`count` contacts of the organisation, inserted in one statement."""
    return Contact.objects.bulk_create(
        Contact(
            organization=organization,
            phone=f"+1305{5000000 + start + index:07d}",
            state=state,
            language=language,
            variables=variables or {},
        )
        for index in range(count)
    )


# What the confirmation page posts back with "select all": no contact ids.
SELECT_ALL_APPLY = {
    "action": "add_to_campaign",
    "select_across": "1",
    "_selected_action": "all",
    "apply": "1",
}


@pytest.fixture
def campaign():
    return CampaignFactory(name="Flu shots")


def test_it_adds_contacts_by_id_and_adding_them_again_adds_nothing(campaign):
    chosen = [contact.pk for contact in contacts(campaign.organization, 3)]

    first = campaign_add_targets(campaign_id=campaign.pk, contact_ids=chosen)
    second = campaign_add_targets(campaign_id=campaign.pk, contact_ids=chosen)

    assert (first.status, first.total, first.processed, first.added) == ("done", 3, 3, 3)
    assert (second.status, second.total, second.processed, second.added) == ("done", 3, 3, 0)
    assert set(campaign.targets.values_list("contact_id", flat=True)) == set(chosen)


def test_new_targets_are_pending_and_due_at_once_in_a_running_campaign(campaign):
    from campaigns.lifecycle import campaign_launch

    first = contacts(campaign.organization, 1)
    campaign_add_targets(campaign_id=campaign.pk, contact_ids=[first[0].pk])
    draft_target = campaign.targets.get()
    launched = campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())
    later = contacts(campaign.organization, 1, start=50)
    campaign_add_targets(campaign_id=campaign.pk, contact_ids=[later[0].pk])

    added_later = campaign.targets.get(contact=later[0])
    assert (draft_target.status, draft_target.attempts, draft_target.variables) == (
        "pending",
        0,
        {},
    )
    assert draft_target.next_attempt_at is None  # set at launch
    assert added_later.status == "pending"
    assert added_later.next_attempt_at == launched.launched_at
    assert added_later.created_at is not None


def test_it_adds_the_contacts_a_filter_selects(campaign):
    organization = campaign.organization
    contacts(organization, 2, state="FL", variables={"clinic": "Downtown"})
    contacts(organization, 3, state="FL", variables={"clinic": "Harbor"}, start=10)
    contacts(organization, 4, state="GA", variables={"clinic": "Downtown"}, start=20)
    contacts(organization, 1, state="FL", language="es", variables={"clinic": "Downtown"}, start=30)

    job = campaign_add_targets(
        campaign_id=campaign.pk,
        contact_filter={"state": "FL", "language": "en", "variables": {"clinic": "Downtown"}},
    )

    assert (job.total, job.added) == (2, 2)
    assert set(campaign.targets.values_list("contact__state", "contact__language")) == {
        ("FL", "en")
    }


def test_it_adds_the_contacts_of_one_import_file(campaign):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from campaigns.tasks import import_job_create

    organization = campaign.organization
    ContactFactory(organization=organization, phone="+13055550170")  # updated by the file
    ContactFactory(organization=organization, phone="+13055550179")  # not in the file
    job = import_job_create(
        organization_id=organization.pk,
        kind="contacts",
        upload=SimpleUploadedFile(
            "a.csv", b"phone,name\n3055550171,Hal\n3055550172,Ida\n3055550170,Known\n"
        ),
        user_id=None,
        run_now=True,
    )

    added = campaign_add_targets(campaign_id=campaign.pk, contact_filter={"import_job": job.pk})

    assert (added.total, added.added) == (3, 3)
    assert set(campaign.targets.values_list("contact__phone", flat=True)) == {
        "+13055550170",
        "+13055550171",
        "+13055550172",
    }


def test_an_import_of_another_organisation_is_refused_as_unknown(campaign):
    from campaigns.models import ImportJob

    other = ImportJob.objects.create(
        organization=OrganizationFactory(name="Harbor Clinic"), kind="contacts", file_name="b.csv"
    )

    with pytest.raises(InvalidSelection) as refused:
        campaign_add_targets(campaign_id=campaign.pk, contact_filter={"import_job": other.pk})

    assert refused.value.errors == {"import_job": f"No contacts import has the id {other.pk}."}


def test_all_contacts_means_those_of_the_campaigns_organisation_only(campaign):
    contacts(campaign.organization, 4)
    contacts(OrganizationFactory(name="Harbor Clinic"), 5, start=100)

    job = campaign_add_targets(campaign_id=campaign.pk, all_contacts=True)

    assert (job.total, job.added) == (4, 4)
    assert not campaign.targets.exclude(contact__organization=campaign.organization).exists()


def test_ids_of_another_organisations_contacts_are_refused_and_nothing_is_added(campaign):
    ours = contacts(campaign.organization, 2)
    theirs = contacts(OrganizationFactory(name="Harbor Clinic"), 1, start=100)

    with pytest.raises(InvalidSelection) as refused:
        campaign_add_targets(
            campaign_id=campaign.pk, contact_ids=[ours[0].pk, ours[1].pk, theirs[0].pk]
        )

    assert refused.value.errors == {
        "contact_ids": f"No contact of this organisation has the id {theirs[0].pk}."
    }
    assert not Target.objects.exists()
    assert not TargetingJob.objects.exists()


@pytest.mark.parametrize(
    ("selection", "errors"),
    [
        (
            {"contact_filter": {"state": "Florida", "colour": "red"}},
            {
                "state": "'Florida' is not a USPS state code such as FL.",
                "colour": "Unknown filter; filters are state, language, variables, import_job, search.",
            },
        ),
        (
            {"contact_filter": {"variables": ["clinic"]}},
            {"variables": 'Must map variable names to values, e.g. {"clinic": "Downtown"}.'},
        ),
        ({"contact_ids": ["12"]}, {"contact_ids": "Must be a list of contact ids."}),
        (
            {"contact_ids": [1], "all_contacts": True},
            {"selection": "Give exactly one of contact_ids, contact_filter or all_contacts."},
        ),
        ({}, {"selection": "Give exactly one of contact_ids, contact_filter or all_contacts."}),
    ],
)
def test_a_bad_selection_is_refused_field_by_field(campaign, selection, errors):
    with pytest.raises(InvalidSelection) as refused:
        campaign_add_targets(campaign_id=campaign.pk, **selection)

    assert refused.value.errors == errors
    assert not TargetingJob.objects.exists()


def test_an_ended_campaign_takes_no_contacts(campaign):
    contacts(campaign.organization, 2)
    campaign_cancel(campaign_id=campaign.pk, at=timezone.now())

    with pytest.raises(CampaignStateError, match="has ended; it takes no contacts"):
        campaign_add_targets(campaign_id=campaign.pk, all_contacts=True)

    assert not Target.objects.exists()


def test_a_large_selection_runs_on_a_worker_after_commit(
    campaign, tasks_run_here, django_capture_on_commit_callbacks
):
    contacts(campaign.organization, 30)

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        job = campaign_add_targets(campaign_id=campaign.pk, all_contacts=True, run_at_once=False)
    waiting = TargetingJob.objects.get(pk=job.pk)
    for callback in enqueued:
        callback()
    job.refresh_from_db()

    assert (waiting.status, waiting.total, waiting.processed) == ("pending", 30, 0)
    assert (job.status, job.processed, job.added, job.percent) == ("done", 30, 30, 100)
    assert campaign.targets.count() == 30


def test_a_job_whose_worker_was_lost_resumes_after_its_last_batch(
    campaign, tasks_run_here, django_capture_on_commit_callbacks
):
    everyone = contacts(campaign.organization, 10)
    done_before = everyone[:4]
    Target.objects.bulk_create(Target(campaign=campaign, contact=c) for c in done_before)
    job = TargetingJob.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        all_contacts=True,
        status="running",
        total=10,
        processed=4,
        added=4,
        last_contact_id=done_before[-1].pk,
    )
    lost_at = timezone.now() - timedelta(minutes=10)
    TargetingJob.objects.filter(pk=job.pk).update(updated_at=lost_at)

    with django_capture_on_commit_callbacks(execute=True):
        resumed = targeting_jobs_resume(at=timezone.now())
    job.refresh_from_db()

    assert resumed == [job.pk]
    assert (job.status, job.processed, job.added) == ("done", 10, 10)
    assert campaign.targets.count() == 10


def test_a_job_still_making_progress_is_left_alone(campaign):
    job = TargetingJob.objects.create(
        organization=campaign.organization, campaign=campaign, all_contacts=True, status="running"
    )

    assert targeting_jobs_resume(at=timezone.now()) == []
    job.refresh_from_db()
    assert job.status == "running"


def test_select_all_adds_every_filtered_contact_from_the_admin_as_a_job(
    client, operator, campaign, tasks_run_here, django_capture_on_commit_callbacks
):
    """2,500 contacts across 25 pages: the old form sent one field per contact and failed
    with TooManyFieldsSent; the filter travels instead."""
    contacts(campaign.organization, 2_500, state="FL")
    contacts(campaign.organization, 7, state="GA", start=10_000)
    client.force_login(operator)
    changelist = reverse("admin:campaigns_contact_changelist") + "?state=FL"
    page_of_ids = list(
        Contact.objects.filter(state="FL").order_by("-pk").values_list("pk", flat=True)[:100]
    )

    chooser = client.post(
        changelist,
        {
            "action": "add_to_campaign",
            "index": "0",
            "select_across": "1",
            "_selected_action": page_of_ids,
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(changelist, SELECT_ALL_APPLY | {"campaign": campaign.pk})
    job = TargetingJob.objects.get()
    progress = client.get(started["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(changelist, SELECT_ALL_APPLY | {"campaign": campaign.pk})

    assert "Add 2500 contacts (every contact the list shows) to" in text_of(chooser)
    assert chooser.content.count(b'name="_selected_action"') == 1  # not one per contact
    assert started["Location"] == reverse("admin:campaigns_targetingjob_progress", args=[job.pk])
    assert job.contact_filter == {"state": "FL"}
    assert "Done" in text_of(progress)
    assert "Contacts selected 2500 Processed 2500 Added 2500" in text_of(progress)
    assert campaign.targets.count() == 2_500
    assert again.status_code == 302  # a job again; it adds nothing
    assert TargetingJob.objects.order_by("-pk").first().added == 0
    assert campaign.targets.count() == 2_500


def test_the_progress_page_refreshes_while_the_job_waits(client, operator, campaign):
    contacts(campaign.organization, 5)
    job = campaign_add_targets(campaign_id=campaign.pk, all_contacts=True, run_at_once=False)
    client.force_login(operator)

    page = client.get(reverse("admin:campaigns_targetingjob_progress", args=[job.pk]))

    assert "Waiting for a worker" in text_of(page)
    assert "Contacts selected 5 Processed 0 Added 0" in text_of(page)
    assert b'<meta http-equiv="refresh" content="2">' in page.content


def test_a_list_filter_that_cannot_select_contacts_is_refused_clearly(client, operator, campaign):
    ContactFactory(organization=campaign.organization, state="")
    client.force_login(operator)

    refused = client.post(
        reverse("admin:campaigns_contact_changelist") + "?state__isnull=False",
        SELECT_ALL_APPLY | {"campaign": campaign.pk},
        follow=True,
    )

    assert "This list filter cannot select contacts to add; tick them instead." in text_of(refused)
    assert not Target.objects.exists()
