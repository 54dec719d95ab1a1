"""Adding contacts to a campaign in bulk: by ids, by a contact filter, or all of them.

One service for the admin's "Add to campaign…" and the API. The selection is stored on a
`TargetingJob`, never expanded into ids: the contacts are read back from the database in
primary-key batches and inserted a batch at a time, so memory stays flat whatever the
size. Small selections run at once; larger ones on a worker, with progress on the job.
"""

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from campaigns.lifecycle import CampaignStateError
from campaigns.models import USPS_STATES, Campaign, Contact, ImportJob, Target, TargetingJob

logger = logging.getLogger(__name__)

BATCH = 5_000
# Selections up to this size are added during the request; larger ones by a worker.
RUN_AT_ONCE_LIMIT = 2_000
# A pending job no worker took (the broker was down), or a running one that stopped
# reporting progress (its worker was lost), is handed to a worker again after this.
STALE_AFTER = timedelta(minutes=2)

FILTER_KEYS = ("state", "language", "variables", "import_job", "search")
ENDED = {Campaign.Status.COMPLETED, Campaign.Status.CANCELLED}


class InvalidSelection(ValueError):
    """The contacts to add were described wrongly; `errors` maps each field to why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def contact_filter_check(contact_filter, *, organization_id: int) -> dict:
    """The filter, checked: keys among `FILTER_KEYS` (state, language, variables: a mapping
    of template variable to value, import_job: the id of one of the organisation's contact
    imports, search: words matched in phone, name or postal code)."""
    if not isinstance(contact_filter, dict):
        raise InvalidSelection({"contact_filter": "Must be an object of filters."})
    errors = {}
    for key in sorted(set(contact_filter) - set(FILTER_KEYS)):
        errors[key] = f"Unknown filter; filters are {', '.join(FILTER_KEYS)}."
    state = contact_filter.get("state")
    if state is not None and state not in USPS_STATES:
        errors["state"] = f"{state!r} is not a USPS state code such as FL."
    for key in ("language", "search"):
        value = contact_filter.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            errors[key] = "Must be a non-empty text."
    variables = contact_filter.get("variables")
    if variables is not None and (
        not isinstance(variables, dict)
        or not variables
        or not all(isinstance(value, str | int | float | bool) for value in variables.values())
    ):
        errors["variables"] = 'Must map variable names to values, e.g. {"clinic": "Downtown"}.'
    import_job = contact_filter.get("import_job")
    if import_job is not None and (
        not isinstance(import_job, int)
        or isinstance(import_job, bool)
        or not ImportJob.objects.filter(
            pk=import_job, organization_id=organization_id, kind=ImportJob.Kind.CONTACTS
        ).exists()
    ):
        errors["import_job"] = f"No contacts import has the id {import_job!r}."
    if errors:
        raise InvalidSelection(errors)
    return contact_filter


def contacts_matching(queryset: QuerySet, contact_filter: dict) -> QuerySet:
    if "state" in contact_filter:
        queryset = queryset.filter(state=contact_filter["state"])
    if "language" in contact_filter:
        queryset = queryset.filter(language=contact_filter["language"])
    if "variables" in contact_filter:
        queryset = queryset.filter(variables__contains=contact_filter["variables"])
    if "import_job" in contact_filter:
        queryset = queryset.filter(imports__import_job_id=contact_filter["import_job"])
    # The admin's contact search, word by word: each word in the phone, name or postal code.
    for word in contact_filter.get("search", "").split():
        queryset = queryset.filter(
            Q(phone__icontains=word) | Q(name__icontains=word) | Q(postal_code__icontains=word)
        )
    return queryset


def job_contacts(job: TargetingJob) -> QuerySet:
    """The contacts a job selects, always within the campaign's organisation."""
    contacts = Contact.objects.filter(organization_id=job.organization_id)
    if job.contact_ids is not None:
        return contacts.filter(pk__in=job.contact_ids)
    if job.contact_filter is not None:
        return contacts_matching(contacts, job.contact_filter)
    return contacts


def _checked_ids(contact_ids, organization_id: int) -> list[int]:
    if not isinstance(contact_ids, list | tuple | set) or not all(
        isinstance(pk, int) and not isinstance(pk, bool) for pk in contact_ids
    ):
        raise InvalidSelection({"contact_ids": "Must be a list of contact ids."})
    ids = sorted(set(contact_ids))
    found = set(
        Contact.objects.filter(pk__in=ids, organization_id=organization_id).values_list(
            "pk", flat=True
        )
    )
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        shown = ", ".join(map(str, unknown[:10])) + (
            f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        )
        raise InvalidSelection(
            {"contact_ids": f"No contact of this organisation has the id {shown}."}
        )
    return ids


def campaign_add_targets(
    *,
    campaign_id: int,
    contact_ids=None,
    contact_filter: dict | None = None,
    all_contacts: bool = False,
    user_id: int | None = None,
    run_at_once: bool | None = None,
) -> TargetingJob:
    """Make the selected contacts targets of the campaign: exactly one of `contact_ids`,
    `contact_filter` (see `contact_filter_check`) or `all_contacts`. Contacts already in
    the campaign are left as they are, so adding twice adds nothing.

    Returns the job: finished when the selection is small (or `run_at_once`), otherwise
    pending until a worker runs it after the transaction commits. The caller has scoped
    `campaign_id` to the user; contacts are only ever taken from its organisation.
    Raises `InvalidSelection` (bad selection) or `CampaignStateError` (campaign ended)."""
    chosen = [contact_ids is not None, contact_filter is not None, bool(all_contacts)]
    if sum(chosen) != 1:
        raise InvalidSelection(
            {"selection": "Give exactly one of contact_ids, contact_filter or all_contacts."}
        )
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status in ENDED:
        raise CampaignStateError(f"Campaign {campaign.name!r} has ended; it takes no contacts.")
    job = TargetingJob(
        organization_id=campaign.organization_id,
        campaign=campaign,
        all_contacts=bool(all_contacts),
        created_by_id=user_id,
    )
    if contact_ids is not None:
        job.contact_ids = _checked_ids(contact_ids, campaign.organization_id)
    elif contact_filter is not None:
        job.contact_filter = contact_filter_check(
            contact_filter, organization_id=campaign.organization_id
        )
    job.total = job_contacts(job).count()
    job.save()
    if run_at_once if run_at_once is not None else job.total <= RUN_AT_ONCE_LIMIT:
        targeting_job_run(job_id=job.pk)
        job.refresh_from_db()
    else:
        targeting_job_enqueue(job.pk)
    return job


def targeting_job_enqueue(job_id: int) -> None:
    from campaigns.tasks import targets_add

    # Robust: if the broker is down the job stays pending in the database and
    # `targeting_jobs_resume` hands it to a worker later.
    transaction.on_commit(lambda: targets_add.delay(job_id), robust=True)


def targeting_job_run(*, job_id: int) -> None:
    """Run one job, a batch per transaction, recording progress with each batch. Safe to
    run twice: only a pending job is claimed, and a job resumed after a lost worker starts
    after the last contact it recorded (a target that exists is never added again)."""
    claimed = TargetingJob.objects.filter(pk=job_id, status=TargetingJob.Status.PENDING).update(
        status=TargetingJob.Status.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return
    job = TargetingJob.objects.select_related("campaign").get(pk=job_id)
    campaign = job.campaign
    if campaign.status in ENDED:
        TargetingJob.objects.filter(pk=job_id).update(
            status=TargetingJob.Status.FAILED,
            message=f"Campaign {campaign.name!r} ended before its contacts were added.",
            finished_at=timezone.now(),
        )
        return
    selected = job_contacts(job).order_by("pk").values_list("pk", flat=True)
    last_contact_id = job.last_contact_id
    try:
        while ids := list(selected.filter(pk__gt=last_contact_id)[:BATCH]):
            last_contact_id = ids[-1]
            _add_batch(job_id, campaign, ids)
    except Exception:
        logger.exception("Targeting job %s failed", job_id)
        TargetingJob.objects.filter(pk=job_id).update(
            status=TargetingJob.Status.FAILED,
            message="Adding stopped on an internal error; the worker log has the details. "
            "Contacts added so far stay in the campaign.",
            finished_at=timezone.now(),
        )
        raise
    TargetingJob.objects.filter(pk=job_id).update(
        status=TargetingJob.Status.DONE, finished_at=timezone.now(), updated_at=timezone.now()
    )


def _add_batch(job_id: int, campaign: Campaign, ids: list[int]) -> None:
    with transaction.atomic():
        added = _insert_targets(campaign, ids, at=timezone.now())
        TargetingJob.objects.filter(pk=job_id).update(
            processed=F("processed") + len(ids),
            added=F("added") + added,
            last_contact_id=ids[-1],
            updated_at=timezone.now(),
        )


def _insert_targets(campaign: Campaign, contact_ids: list[int], *, at) -> int:
    """One INSERT … SELECT for the batch, skipping contacts already targeted; returns how
    many targets are new. The statement is built from the model's fields (each one's
    default), so a field added to Target later is filled like bulk_create would; building
    5,000 model instances per batch instead costs ten times as much."""
    if connection.vendor != "postgresql":
        return _insert_targets_portably(campaign, contact_ids, at=at)
    fields = [field for field in Target._meta.concrete_fields if not field.primary_key]
    columns, values, params = [], [], []
    for field in fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.name == "contact":
            values.append("contact.id")
            continue
        if field.name == "campaign":
            value = campaign.pk
        elif field.name == "next_attempt_at":
            # A running campaign's new targets are due at once; a draft's at launch.
            value = campaign.launched_at
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = at
        else:
            value = field.get_default()
        values.append(f"CAST(%s AS {field.db_type(connection)})")
        params.append(field.get_db_prep_save(value, connection))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Target._meta.db_table)} "
        f"({', '.join(columns)}) SELECT {', '.join(values)} "
        f"FROM {connection.ops.quote_name(Contact._meta.db_table)} AS contact "
        "WHERE contact.id = ANY(%s) ORDER BY contact.id ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, contact_ids])
        return cursor.rowcount


def _insert_targets_portably(campaign: Campaign, contact_ids: list[int], *, at) -> int:
    """The same batch through the ORM, for the SQLite demo (no arrays there): count, insert
    skipping conflicts, count again, under the campaign's lock taken by the caller."""
    before = Target.objects.filter(campaign=campaign).count()
    Target.objects.bulk_create(
        [
            Target(campaign=campaign, contact_id=contact_id, next_attempt_at=campaign.launched_at)
            for contact_id in contact_ids
        ],
        ignore_conflicts=True,
    )
    return Target.objects.filter(campaign=campaign).count() - before


def targeting_jobs_resume(*, at) -> list[int]:
    """Hand jobs no worker is running back to one: pending since before `STALE_AFTER`
    (their message was lost) or running without progress for as long (their worker
    died). Returns the jobs' ids."""
    stale = at - STALE_AFTER
    jobs = TargetingJob.objects.filter(
        status__in=[TargetingJob.Status.PENDING, TargetingJob.Status.RUNNING],
        updated_at__lt=stale,
    )
    job_ids = list(jobs.values_list("pk", flat=True))
    for job_id in job_ids:
        TargetingJob.objects.filter(pk=job_id, updated_at__lt=stale).update(
            status=TargetingJob.Status.PENDING, updated_at=at
        )
        targeting_job_enqueue(job_id)
    return job_ids
