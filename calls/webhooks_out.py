"""Signed events to the organisation's own URL: `call.completed`, `call.analyzed`,
`campaign.finished`, `budget.threshold` (docs/webhooks.md describes them).

A transactional outbox: `webhook_event_emit` writes a `WebhookDelivery` row in the
caller's transaction, so an event exists exactly when the fact it reports was committed.
After commit a task sends it; a beat sweep sends whatever is due, so a broker outage
delays events but never loses them. Each POST is logged as a `WebhookAttempt`; failures
are retried with exponential backoff for 24 hours, then the delivery is marked failed.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from calls.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from voiceops.broker import enqueue

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-VoiceOps-Signature"
EVENT_ID_HEADER = "X-VoiceOps-Event-Id"
EVENT_HEADER = "X-VoiceOps-Event"
REQUEST_TIMEOUT_SECONDS = 10
# While one worker is sending a delivery, no other picks it up; if the worker dies, the
# sweep sends it again once this has passed.
CLAIM_SECONDS = 60
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 2 * 3600
GIVE_UP_AFTER = timedelta(hours=24)
SWEEP_BATCH = 200
USER_AGENT = "VoiceOps-Webhooks/1"

Status = WebhookDelivery.Status


class UnknownEvent(ValueError):
    def __init__(self, event: str):
        known = ", ".join(WebhookEvent.values)
        super().__init__(f"{event!r} is not a webhook event; the events are: {known}.")


def webhook_event_emit(
    *, organization_id: int, event: str, payload: dict, at: datetime | None = None
) -> WebhookDelivery | None:
    """Record `event` for the organisation's receiver, in the caller's transaction, and send
    it once that commits. Returns None (and records nothing) when the organisation has no
    active webhook URL. Raises UnknownEvent for an event not in `WebhookEvent`."""
    if event not in WebhookEvent.values:
        raise UnknownEvent(event)
    if not WebhookEndpoint.objects.filter(organization_id=organization_id, is_active=True).exists():
        return None
    now = at or timezone.now()
    delivery = WebhookDelivery.objects.create(
        organization_id=organization_id,
        event=event,
        payload=payload,
        created_at=now,
        next_attempt_at=now,
    )
    transaction.on_commit(lambda: enqueue("calls.tasks.deliver_webhook", args=[delivery.pk]))
    return delivery


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The JSON document POSTed for a delivery: the same bytes on every attempt."""
    document = {
        "id": str(delivery.event_id),
        "type": delivery.event,
        "created_at": _instant(delivery.created_at),
        "data": delivery.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as receivers check it."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 30 s, 1 min, 2 min, … at most 2 hours."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LONGEST_RETRY_SECONDS))


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def accepted(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send the event somewhere the organisation did not configure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    status_code, error = None, ""
    try:
        with _opener.open(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            status_code = response.status
    except urllib.error.HTTPError as refused:
        status_code, error = refused.code, f"HTTP {refused.code} {refused.reason}"
    except (urllib.error.URLError, TimeoutError, OSError) as failure:
        reason = getattr(failure, "reason", failure)
        error = f"{type(reason).__name__}: {reason}"
    duration_ms = round((time.monotonic() - started) * 1000)
    return Answer(status_code=status_code, error=error[:300], duration_ms=duration_ms)


def _claim(delivery_id: int, *, at: datetime) -> bool:
    """Take a due delivery for one send; exactly one worker wins."""
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=at
        ).update(next_attempt_at=at + timedelta(seconds=CLAIM_SECONDS))
    )


def webhook_delivery_send(*, delivery_id: int, at: datetime | None = None) -> str:
    """Send one due delivery and record the attempt; returns the delivery's status.

    Safe to run twice and concurrently: a delivery not pending or not yet due is left alone,
    and a claim makes one caller the sender. The receiver may still see an event twice (a
    lost answer is retried), so it deduplicates by the event id header.
    """
    now = at or timezone.now()
    if not _claim(delivery_id, at=now):
        return (
            WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
            or ""
        )
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    endpoint = WebhookEndpoint.objects.filter(
        organization_id=delivery.organization_id, is_active=True
    ).first()
    if endpoint is None:
        answer, url = Answer(None, "The organisation has no active webhook URL.", 0), ""
    else:
        url = endpoint.url
        body = webhook_body(delivery)
        timestamp = int(time.time())
        answer = _post(
            url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                EVENT_HEADER: delivery.event,
                EVENT_ID_HEADER: str(delivery.event_id),
                SIGNATURE_HEADER: webhook_signature(
                    secret=endpoint.secret, timestamp=timestamp, body=body
                ),
            },
        )
    return _record(delivery, answer=answer, url=url, at=now)


def _record(delivery: WebhookDelivery, *, answer: Answer, url: str, at: datetime) -> str:
    finished = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=at,
            url=url,
            status_code=answer.status_code,
            error=answer.error,
            duration_ms=answer.duration_ms,
        )
        attempts = delivery.attempts + 1
        fields = {"attempts": attempts, "last_error": answer.error}
        if answer.accepted:
            fields.update(status=Status.DELIVERED, delivered_at=finished, next_attempt_at=None)
        else:
            retry_at = at + retry_delay(attempts)
            if retry_at > delivery.created_at + GIVE_UP_AFTER:
                fields.update(status=Status.FAILED, next_attempt_at=None)
            else:
                fields.update(next_attempt_at=retry_at)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    if not answer.accepted:
        log.warning(
            "Webhook %s %s to %s not accepted (attempt %s): %s",
            delivery.event,
            delivery.event_id,
            url,
            attempts,
            answer.error or answer.status_code,
        )
    return fields.get("status", Status.PENDING)


def webhook_deliveries_due(*, at: datetime, limit: int = SWEEP_BATCH) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=at)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_delivery_retry_now(*, delivery_ids, at: datetime | None = None) -> int:
    """Make deliveries due at once (a failed one gets one more attempt). Returns how many."""
    now = at or timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.filter(pk__in=delivery_ids)
            .exclude(status=Status.DELIVERED)
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=Status.PENDING, next_attempt_at=now
        )
        for delivery_id in ids:
            transaction.on_commit(
                lambda delivery_id=delivery_id: enqueue(
                    "calls.tasks.deliver_webhook", args=[delivery_id]
                )
            )
    return len(ids)


def _instant(value: datetime | None) -> str | None:
    """ISO 8601 with the offset, to the microsecond."""
    return value.isoformat() if value else None


def call_completed_payload(call) -> dict:
    """The `call.completed` document: the call as it ended (costs follow in reports once it
    is priced; the analysis follows as `call.analyzed`)."""
    target = call.target
    return {
        "call_id": call.pk,
        "direction": call.direction,
        "status": call.status,
        "from": call.from_number,
        "to": call.to_number,
        "campaign_id": target.campaign_id if target else None,
        "contact_id": target.contact_id if target else None,
        "attempt": call.attempt,
        "outcome": call.outcome,
        "answered_by": call.answered_by,
        "hangup_reason": call.hangup_reason,
        "duration_seconds": call.duration_seconds,
        "created_at": _instant(call.created_at),
        "answered_at": _instant(call.answered_at),
        "ended_at": _instant(call.ended_at),
    }


def call_analyzed_payload(call) -> dict:
    """The `call.analyzed` document: what the analysis read, and the answers the call keeps."""
    target = call.target
    answers = call.survey_answers.select_related("question").order_by("question__position")
    return {
        "call_id": call.pk,
        "campaign_id": target.campaign_id if target else None,
        "contact_id": target.contact_id if target else None,
        "summary": call.summary,
        "sentiment": {
            "label": call.sentiment,
            "score": float(call.sentiment_score) if call.sentiment_score is not None else None,
        },
        "outcome": call.outcome or call.analysis_outcome,
        "answers": [
            {
                "question_id": answer.question_id,
                "question": answer.question.text,
                "type": answer.question.kind,
                "value": answer.value,
            }
            for answer in answers
        ],
        "follow_up": {"needed": call.is_follow_up_needed, "reason": call.follow_up_reason},
        "callback_at": _instant(call.callback_requested_at),
        "analysed_at": _instant(call.analysed_at),
    }


def campaign_finished_payload(campaign) -> dict:
    """The `campaign.finished` document: how it ended and what became of its targets."""
    targets = campaign.targets.all()
    by_status = dict(targets.values_list("status").annotate(count=Count("pk")).order_by())
    by_outcome = dict(
        targets.exclude(outcome="").values_list("outcome").annotate(count=Count("pk")).order_by()
    )
    return {
        "campaign_id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "launched_at": _instant(campaign.launched_at),
        "finished_at": _instant(campaign.finished_at),
        "targets": sum(by_status.values()),
        "targets_by_status": by_status,
        "outcomes": by_outcome,
        "calls": campaign.targets.aggregate(calls=Count("calls"))["calls"],
    }
