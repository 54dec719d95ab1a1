"""Time and peak memory to add 100,000 contacts to a campaign in bulk (the service behind
the admin's "Add to campaign…" and the API), and a re-run that must add nothing.

Run: `.venv/bin/python -m bench.targets [--contacts N]`

Uses a throwaway database (`bench_<name>`, created and dropped) on the server the test
environment names (DATABASE_URL, default PostgreSQL on 127.0.0.1). Memory is the peak of
Python allocations during the add (tracemalloc, on a separate run since it slows Python
down): it must stay flat whatever the number of contacts. Wall-clock time on a shared
machine: read the figures as orders of magnitude.
"""

import argparse
import os
import time
import tracemalloc

import tests.environment  # noqa: F401  (the same environment as the test suite)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

CREATE_BATCH = 10_000


def create_contacts(organization, count: int) -> None:
    from campaigns.models import Contact

    for start in range(0, count, CREATE_BATCH):
        Contact.objects.bulk_create(
            Contact(
                organization=organization,
                phone=f"+1305{2000000 + index:07d}",
                state="FL",
                variables={"clinic": "Downtown" if index % 2 else "Harbor"},
            )
            for index in range(start, min(count, start + CREATE_BATCH))
        )


def add_all(campaign, **selection):
    from campaigns.targeting import campaign_add_targets

    started = time.perf_counter()
    job = campaign_add_targets(campaign_id=campaign.pk, run_at_once=True, **selection)
    return job, time.perf_counter() - started


def add_through_the_admin(organization, campaign) -> tuple[float, object]:
    """The admin's "Add to campaign…" with "select all" on the filtered contact list, the
    job run by a worker in this process (Celery eager)."""
    from django.test import Client

    from campaigns.models import TargetingJob
    from tests.factories import member_of
    from voiceops.celery import app

    app.conf.task_always_eager = True
    client = Client()
    client.force_login(member_of("operator", "bench-operator", organization=organization))
    started = time.perf_counter()
    response = client.post(
        "/admin/campaigns/contact/?state=FL",
        {
            "action": "add_to_campaign",
            "select_across": "1",
            "_selected_action": "all",
            "apply": "1",
            "campaign": campaign.pk,
        },
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    return elapsed, TargetingJob.objects.order_by("-pk").first()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    arguments = parser.parse_args()
    count = arguments.contacts

    setup_test_environment()
    database = connection.settings_dict
    database.setdefault("TEST", {})["NAME"] = f"bench_{database['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from tests.factories import CampaignFactory, OrganizationFactory

        organization = OrganizationFactory(name="Targets bench")
        create_contacts(organization, count)
        campaign = CampaignFactory(organization=organization, name="Everyone")

        job, elapsed = add_all(campaign, all_contacts=True)
        print(
            f"add all: {job.total:,} contacts in {elapsed:.1f} s = {job.total / elapsed:,.0f} "
            f"contacts/s; {job.added:,} added"
        )
        again, elapsed = add_all(campaign, all_contacts=True)
        print(
            f"re-run: {again.total:,} contacts in {elapsed:.1f} s = "
            f"{again.total / elapsed:,.0f} contacts/s; {again.added:,} added"
        )
        by_filter, elapsed = add_all(
            CampaignFactory(organization=organization, name="Downtown"),
            contact_filter={"state": "FL", "variables": {"clinic": "Downtown"}},
        )
        print(
            f"by filter (state + variable): {by_filter.total:,} contacts in {elapsed:.1f} s; "
            f"{by_filter.added:,} added"
        )

        elapsed, through_admin = add_through_the_admin(
            organization, CampaignFactory(organization=organization, name="From the admin")
        )
        print(
            f"through the admin (select all, filtered): {through_admin.total:,} contacts in "
            f"{elapsed:.1f} s; {through_admin.added:,} added, job {through_admin.status}"
        )

        tracemalloc.start()
        traced, _ = add_all(
            CampaignFactory(organization=organization, name="Traced"), all_contacts=True
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python memory while adding {traced.added:,} contacts: {peak / 2**20:.1f} MiB")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
