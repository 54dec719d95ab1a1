"""Time and peak memory of adding 100,000 contacts to a campaign through the API
(`POST /api/campaigns/{id}/targets/` with `all_contacts`, then the job a worker runs), and
of adding them again (adds nothing).

Run: `.venv/bin/python -m bench.api_targets [--contacts N]`

Uses a throwaway database (`bench_<name>`, created and dropped) on the server the test
environment names (DATABASE_URL, default PostgreSQL on 127.0.0.1). Peak memory is the
process's resident high-water mark, read before and after each request. Wall-clock time on
a shared machine: read the figures as orders of magnitude.
"""

import argparse
import os
import resource
import time

import tests.environment  # noqa: F401  (the same environment as the test suite)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

BATCH = 5_000


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def contacts_create(organization, count: int) -> None:
    from campaigns.models import Contact

    for start in range(0, count, BATCH):
        Contact.objects.bulk_create(
            Contact(
                organization=organization,
                phone=f"+1305{2000000 + row}",
                state="FL" if row % 2 else "GA",
                variables={"clinic": "north" if row % 4 == 0 else "south"},
            )
            for row in range(start, min(start + BATCH, count))
        )


def timed_post(client, url: str, body: dict, label: str) -> None:
    before = maxrss_mib()
    started = time.perf_counter()
    response = client.post(url, body, format="json")
    if response.status_code == 202:
        # A large selection is a job for a worker: run it here, as the worker would, then
        # read its result where a client polls it.
        from campaigns.targeting import targeting_job_run

        targeting_job_run(job_id=response.json()["job"])
        response = client.get(response.json()["url"])
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content
    data = response.json()
    print(
        f"{label}: {data['matched']:,} matched, {data['added']:,} added in {elapsed:.1f} s "
        f"({data['matched'] / elapsed:,.0f} contacts/s); peak RSS {before:.0f} -> "
        f"{maxrss_mib():.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    arguments = parser.parse_args()

    setup_test_environment()
    database = connection.settings_dict
    database.setdefault("TEST", {})["NAME"] = f"bench_{database['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.test.utils import override_settings
        from rest_framework.test import APIClient

        from tenancy.models import api_key_create
        from tests.factories import CampaignFactory, OrganizationFactory

        organization = OrganizationFactory(name="Targets bench")
        contacts_create(organization, arguments.contacts)
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION="Bearer "
            + api_key_create(organization_id=organization.pk, role="operator")[1]
        )
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            campaign = CampaignFactory(organization=organization)
            url = f"/api/campaigns/{campaign.pk}/targets/"
            print(f"{arguments.contacts:,} contacts; peak RSS so far {maxrss_mib():.0f} MiB")
            timed_post(client, url, {"filter": {"variables": {"clinic": "north"}}}, "by filter")
            timed_post(client, url, {"all_contacts": True}, "all contacts")
            timed_post(client, url, {"all_contacts": True}, "all again")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
