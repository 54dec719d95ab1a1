"""Playing a call's recording in the console: the carrier serves the audio only with our
account's credentials, so this view fetches it server side and streams it to a member of
the call's organisation who may listen (operators, finance and admins hold
`calls.view_recording`). Another organisation's recording answers 404, as every scoped
row does."""

import logging
import re

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404

from calls.models import Recording
from calls.telephony import twilio
from tenancy.scoping import scoped, tenant_of

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
# One byte range, as players ask when they seek; anything else is ignored (RFC 9110 lets a
# server answer a Range it does not serve with the whole file).
SINGLE_RANGE = re.compile(r"bytes=(\d+-\d*|-\d+)")
PASSED_ON_HEADERS = ("Content-Length", "Content-Range")


def _chunks(upstream):
    try:
        yield from upstream.iter_content(CHUNK_BYTES)
    finally:
        upstream.close()


def recording_audio_view(request, call_id: int, recording_id: int):
    """The recording's WAV audio, streamed from the carrier; a single byte range (a player
    seeking) is passed on, and the carrier's 206 or 416 answer with it."""
    if not request.user.has_perm("calls.view_recording"):
        raise PermissionDenied
    recording = get_object_or_404(
        scoped(Recording.objects.all(), tenant_of(request)),
        pk=recording_id,
        call_id=call_id,
        status=Recording.Status.COMPLETED,
    )
    asked = request.headers.get("Range", "").replace(" ", "")
    byte_range = asked if SINGLE_RANGE.fullmatch(asked) else None
    try:
        upstream = twilio.recording_audio(recording.sid, byte_range=byte_range)
    except twilio.CallGone:
        raise Http404("The carrier no longer has this recording.") from None
    except twilio.CarrierError as error:
        log.warning("Recording %s not fetched: %s", recording.sid, error)
        return HttpResponse(
            "The carrier did not serve the recording; try again in a minute.",
            status=502,
            content_type="text/plain",
        )
    response = StreamingHttpResponse(
        _chunks(upstream), content_type="audio/wav", status=upstream.status_code
    )
    for header in PASSED_ON_HEADERS:
        if upstream.headers.get(header):
            response[header] = upstream.headers[header]
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'inline; filename="call-{call_id}-{recording.sid}.wav"'
    response["Cache-Control"] = "private, no-store"
    return response
