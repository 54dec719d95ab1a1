"""The home page's "Calls in progress" and "Failed calls" tables as HTML fragments: the page
fetches them again when a campaign's progress socket reports that its calls changed, as the
campaign page does with its own calls in progress."""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from calls.admin_end_call import can_end_calls
from tenancy.scoping import tenant_of
from voiceops.dashboard import failure_row, live_call_row, live_calls, recent_failures


def _require_call_reader(request) -> None:
    if not request.user.has_perm("calls.view_call"):
        raise PermissionDenied


def dashboard_live_calls_view(request):
    _require_call_reader(request)
    return TemplateResponse(
        request,
        "admin/voiceops/live_calls.html",
        {
            "calls": [live_call_row(call) for call in live_calls(tenant_of(request))],
            "can_end_calls": can_end_calls(request),
            "show_campaign": True,
            "next": reverse("admin:index"),
        },
    )


def dashboard_failed_calls_view(request):
    _require_call_reader(request)
    failures = recent_failures(tenant_of(request), at=timezone.now())
    return TemplateResponse(
        request,
        "admin/voiceops/failed_calls.html",
        {"failures": [failure_row(call) for call in failures]},
    )
