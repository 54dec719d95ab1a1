"""Playing a call's recording in the console: the carrier serves the audio only with our
account's credentials, so this view fetches it server side and streams it to a member of
the call's organisation who may listen (operators, finance and admins hold
`calls.view_recording`). Another organisation's recording answers 404, as every scoped
row does."""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404

from calls.models import Recording
from calls.telephony import twilio
from tenancy.scoping import scoped, tenant_of

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024


def _chunks(upstream):
    try:
        yield from upstream.iter_content(CHUNK_BYTES)
    finally:
        upstream.close()


def recording_audio_view(request, call_id: int, recording_id: int):
    """The recording's WAV audio, streamed from the carrier."""
    if not request.user.has_perm("calls.view_recording"):
        raise PermissionDenied
    recording = get_object_or_404(
        scoped(Recording.objects.all(), tenant_of(request)),
        pk=recording_id,
        call_id=call_id,
        status=Recording.Status.COMPLETED,
    )
    try:
        upstream = twilio.recording_audio(recording.sid)
    except twilio.CallGone:
        raise Http404("The carrier no longer has this recording.") from None
    except twilio.CarrierError as error:
        log.warning("Recording %s not fetched: %s", recording.sid, error)
        return HttpResponse(
            "The carrier did not serve the recording; try again in a minute.",
            status=502,
            content_type="text/plain",
        )
    response = StreamingHttpResponse(_chunks(upstream), content_type="audio/wav")
    if upstream.headers.get("Content-Length"):
        response["Content-Length"] = upstream.headers["Content-Length"]
    response["Content-Disposition"] = f'inline; filename="call-{call_id}-{recording.sid}.wav"'
    response["Cache-Control"] = "private, no-store"
    return response
