from django.urls import path

from calls import webhooks

app_name = "calls"

urlpatterns = [
    path("twilio/calls/<int:call_id>/answer", webhooks.answer, name="answer"),
    path("twilio/calls/<int:call_id>/status", webhooks.status, name="status"),
    path("twilio/calls/<int:call_id>/amd", webhooks.amd, name="amd"),
    path("twilio/calls/<int:call_id>/recording", webhooks.recording, name="recording"),
    path("twilio/voice", webhooks.inbound, name="inbound"),
    path("twilio/status", webhooks.status, name="inbound-status"),
]
