"""The console's "End call" button (dashboard and campaign page): a POST, CSRF-protected,
for operators and admins, on a call of their own organisation."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from calls.models import Call
from calls.operator_hangup import CallNotLive, call_end_by_operator
from calls.telephony.twilio import CarrierError
from tenancy.scoping import scoped, tenant_of


def can_end_calls(request) -> bool:
    """Ending a live call is an operator's act on a campaign (operators and admins)."""
    return request.user.has_perm("campaigns.change_campaign")


@require_POST
def call_end_view(request, call_id: int):
    if not can_end_calls(request):
        raise PermissionDenied("Only operators and admins may end a call.")
    call = get_object_or_404(scoped(Call.objects.all(), tenant_of(request)), pk=call_id)
    try:
        call_end_by_operator(
            call_id=call.pk, username=request.user.get_username(), at=timezone.now()
        )
    except CallNotLive as error:
        messages.warning(request, str(error))
    except CarrierError as error:
        messages.error(request, f"The carrier could not end call {call.pk}: {error}")
    else:
        messages.success(
            request, f"Call {call.pk} to {call.to_number} is being ended by the carrier."
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "admin:index"
    return redirect(back)
