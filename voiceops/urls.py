from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView


def health(request):
    return JsonResponse({"status": "ok"})


admin.site.site_header = "VoiceOps"
admin.site.site_title = "VoiceOps"
admin.site.index_title = "Campaigns, calls and costs"

urlpatterns = [
    # The site has no public pages: its root (the admin's "View site") is the console.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="root"),
    path("admin/", admin.site.urls),
    path("healthz", health, name="health"),
    path("api/", include("voiceops.api_urls")),
    path("", include("calls.urls")),
]
