"""Celery tasks of the campaigns app.

Imports: an uploaded file is stored with an `ImportJob` row, the `import_run` task (queue
`default`) reads it back and records progress on the row as it goes, which the admin page
and the API show.
"""

import logging
from datetime import datetime

from celery import shared_task
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from calls.tasks import dial
from campaigns.budget_alerts import budget_alerts_notify_pending, budget_paused_campaigns_resume
from campaigns.budgets import budgets_enforce_all
from campaigns.importing import (
    ImportFileError,
    ImportReport,
    contact_file_check,
    contacts_import,
)
from campaigns.models import ImportJob
from campaigns.progress import campaign_progress_publish
from campaigns.registry import RegistryFileError, RegistryReport, check_list, registry_import
from campaigns.scheduling import campaign_tick, campaigns_running

logger = logging.getLogger(__name__)


def import_job_create(
    *,
    organization_id: int,
    kind: str,
    upload: UploadedFile,
    user_id: int | None,
    source: str = "",
    state: str = "",
    synced_at: datetime | None = None,
    replaces_previous: bool = False,
    run_now: bool = False,
) -> ImportJob:
    """Store the upload and import it: on a worker once the transaction commits, or at once
    with `run_now` (small files, so the caller gets the finished job back).

    Raises RegistryFileError (a suppression list's details) or ImportFileError (a contact
    file wider than CONTACT_CSV_MAX_COLUMNS) before anything is stored."""
    if kind == ImportJob.Kind.SUPPRESSIONS:
        check_list(source, state, synced_at)
    else:
        contact_file_check(upload)
    job = ImportJob(
        organization_id=organization_id,
        kind=kind,
        file_name=upload.name[:255],
        source=source,
        state=state,
        synced_at=synced_at,
        replaces_previous=replaces_previous,
        created_by_id=user_id,
    )
    job.file.save(upload.name, upload, save=False)
    job.save()
    if run_now:
        import_job_run(job_id=job.pk)
        job.refresh_from_db()
    else:
        transaction.on_commit(lambda: import_run.delay(job.pk))
    return job


def progress_recorder(job_id: int):
    def record(report: ImportReport | RegistryReport) -> None:
        ImportJob.objects.filter(pk=job_id).update(**job_counts(report))

    return record


def job_counts(report: ImportReport | RegistryReport) -> dict:
    if isinstance(report, ImportReport):
        return {
            "total": report.total,
            "processed": report.processed,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "error_count": report.rejected,
            "errors": [error.as_dict() for error in report.errors],
        }
    return {
        "total": report.total,
        "processed": report.processed,
        "created": report.created,
        "unchanged": report.already_listed,
        "removed": report.removed,
        "error_count": report.bad_line_count,
        "errors": [bad.as_dict() for bad in report.bad_lines],
    }


def import_job_run(*, job_id: int) -> None:
    """Run one import job. Safe to run again: a finished job is left alone, and imports
    are idempotent, so a job interrupted by a lost worker simply starts over."""
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)
    record = progress_recorder(job_id)
    try:
        with open(job.file.path, "rb") as file:
            if job.kind == ImportJob.Kind.CONTACTS:
                report = contacts_import(
                    organization_id=job.organization_id,
                    file=file,
                    on_progress=record,
                    import_job_id=job.pk,
                )
            else:
                report = registry_import(
                    organization_id=job.organization_id,
                    file=file,
                    source=job.source,
                    state=job.state,
                    synced_at=job.synced_at,
                    replaces_previous=job.replaces_previous,
                    at=timezone.now(),
                    on_progress=record,
                )
    except (ImportFileError, RegistryFileError, FileNotFoundError) as error:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, message=str(error), finished_at=timezone.now()
        )
        return
    except Exception:
        logger.exception("Import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            message="The import stopped on an internal error; the worker log has the details.",
            finished_at=timezone.now(),
        )
        raise
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now(), **job_counts(report)
    )


@shared_task(time_limit=3600, soft_time_limit=3540)
def import_run(job_id: int) -> None:
    """Import the job's file (contacts or a suppression list); see `import_job_run`."""
    import_job_run(job_id=job_id)


def _tick_campaign(campaign_id: int, *, at) -> int:
    report = campaign_tick(
        campaign_id=campaign_id,
        at=at,
        enqueue_dial=lambda call_id: dial.apply_async(args=[call_id], queue="dial"),
    )
    if report.calls or report.deferred or report.denied:
        campaign_progress_publish(campaign_id=campaign_id)
    return len(report.calls)


@shared_task(time_limit=60, soft_time_limit=50)
def tick() -> dict:
    """Beat, every few seconds: book the calls every running campaign may place now."""
    now = timezone.now()
    booked = sum(_tick_campaign(campaign_id, at=now) for campaign_id in campaigns_running())
    return {"booked": booked}


@shared_task(time_limit=60, soft_time_limit=50)
def tick_campaign(campaign_id: int) -> dict:
    """One campaign's tick, run as soon as one of its calls ends, so the freed slot is
    filled at once instead of at the next beat."""
    return {"booked": _tick_campaign(campaign_id, at=timezone.now())}


@shared_task(time_limit=3600, soft_time_limit=3540)
def targets_add(job_id: int) -> None:
    """Add a targeting job's contacts to its campaign; see `targeting_job_run`."""
    from campaigns.targeting import targeting_job_run

    targeting_job_run(job_id=job_id)


@shared_task(time_limit=60, soft_time_limit=50)
def targeting_jobs_sweep() -> dict:
    """Beat, every minute: targeting jobs no worker is running go back to one."""
    from campaigns.targeting import targeting_jobs_resume

    return {"resumed": targeting_jobs_resume(at=timezone.now())}


@shared_task(time_limit=120, soft_time_limit=100)
def notify_budget_alerts() -> dict:
    """Beat, every minute: send budget alerts whose email and push did not go out after they
    were recorded (a crash, a mail server down). Safe to run twice: each is sent once."""
    return {"sent": budget_alerts_notify_pending(at=timezone.now())}


@shared_task(time_limit=60, soft_time_limit=50)
def resume_budget_paused_campaigns() -> dict:
    """Beat, every minute: resume campaigns paused for a budget that has renewed (the
    organisation's day or month turned) or been raised. Idempotent."""
    return {"resumed": budget_paused_campaigns_resume(at=timezone.now())}


@shared_task(time_limit=120, soft_time_limit=100)
def enforce_budgets() -> dict:
    """Beat, every minute: check every budget in force (alerts, pause), in case a pricing
    run died before it did. Idempotent: each alert is recorded once."""
    return {"alerts": len(budgets_enforce_all(at=timezone.now()))}
