"""Retention: an organisation that sets `retention_days` keeps call recordings and
uploaded import files only that long.

A recording is deleted at the carrier first (where the audio is, and what the carrier
bills storage for), then its row; an import file is removed from storage and the job keeps
its counts and errors. Both are idempotent: a recording the carrier no longer has counts as
deleted, and a job without a file is skipped, so a run interrupted halfway is finished by
the next.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import DurationField, ExpressionWrapper, F, QuerySet

from calls.models import Recording
from calls.telephony import twilio
from campaigns.models import ImportJob

log = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class RetentionResult:
    recordings_deleted: int
    import_files_deleted: int
    recordings_failed: int


def _older_than_retention(queryset: QuerySet, *, organization_path: str, at: datetime):
    """Rows created before `at` minus their organisation's retention days."""
    days = f"{organization_path}__retention_days"
    return (
        queryset.filter(**{f"{days}__isnull": False})
        .annotate(
            retention=ExpressionWrapper(F(days) * ONE_DAY, output_field=DurationField()),
        )
        .filter(created_at__lt=at - F("retention"))
    )


def recordings_expired(*, at: datetime) -> QuerySet:
    return _older_than_retention(
        Recording.objects.all(), organization_path="call__organization", at=at
    )


def import_jobs_with_expired_files(*, at: datetime) -> QuerySet:
    finished = ImportJob.objects.filter(
        status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED]
    ).exclude(file="")
    return _older_than_retention(finished, organization_path="organization", at=at)


def recording_delete(*, recording_id: int) -> None:
    """Delete the recording at the carrier, then here. Raises CarrierError when the carrier
    could not be asked (the row stays, so the next run tries again)."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None:
        return
    if recording.status in (Recording.Status.COMPLETED, Recording.Status.IN_PROGRESS):
        twilio.delete_recording(recording.sid)  # absent or failed: nothing at the carrier
    recording.delete()


def import_file_delete(*, job_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).exclude(file="").first()
    if job is None:
        return
    job.file.delete(save=False)  # a file already missing from storage is not an error
    ImportJob.objects.filter(pk=job.pk).update(file="")


def retention_apply(*, at: datetime) -> RetentionResult:
    """Delete every recording and import file past its organisation's retention."""
    deleted = failed = 0
    for recording_id in recordings_expired(at=at).values_list("pk", flat=True):
        try:
            recording_delete(recording_id=recording_id)
        except twilio.CarrierError as error:
            failed += 1
            log.warning("Recording %s kept for now: %s", recording_id, error)
        else:
            deleted += 1
    job_ids = list(import_jobs_with_expired_files(at=at).values_list("pk", flat=True))
    for job_id in job_ids:
        import_file_delete(job_id=job_id)
    return RetentionResult(
        recordings_deleted=deleted, import_files_deleted=len(job_ids), recordings_failed=failed
    )
