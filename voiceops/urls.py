from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView

from calls.admin_end_call import call_end_view
from voiceops.dashboard_live import dashboard_failed_calls_view, dashboard_live_calls_view


def health(request):
    return JsonResponse({"status": "ok"})


admin.site.site_header = "VoiceOps"
admin.site.site_title = "VoiceOps"
admin.site.index_title = "Campaigns, calls and costs"

urlpatterns = [
    # The site has no public pages: its root (the admin's "View site") is the console.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="root"),
    # Before the admin's own routes, which would read "5/end/" as an object id.
    path(
        "admin/calls/call/<int:call_id>/end/",
        admin.site.admin_view(call_end_view),
        name="call_end",
    ),
    path(
        "admin/dashboard/live-calls/",
        admin.site.admin_view(dashboard_live_calls_view),
        name="dashboard_live_calls",
    ),
    path(
        "admin/dashboard/failed-calls/",
        admin.site.admin_view(dashboard_failed_calls_view),
        name="dashboard_failed_calls",
    ),
    path("admin/", admin.site.urls),
    path("healthz", health, name="health"),
    path("api/", include("voiceops.api_urls")),
    path("", include("calls.urls")),
]
