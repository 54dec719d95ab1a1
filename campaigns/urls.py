"""The audience API, mounted under /api/ (see campaigns/api.py for the contract)."""

from django.urls import path

from campaigns import api

app_name = "api"

urlpatterns = [
    path(
        "contacts/", api.ContactViewSet.as_view({"get": "list", "post": "create"}), name="contacts"
    ),
    path("contacts/import/", api.ContactImportView.as_view(), name="contact-import"),
    path("contacts/<int:pk>/", api.ContactViewSet.as_view({"get": "retrieve"}), name="contact"),
    path("imports/", api.ImportJobViewSet.as_view({"get": "list"}), name="import-jobs"),
    path("imports/<int:pk>/", api.ImportJobViewSet.as_view({"get": "retrieve"}), name="import-job"),
    path("suppressions/", api.SuppressionListCreate.as_view(), name="suppressions"),
    path("suppressions/import/", api.RegistryImportView.as_view(), name="suppression-import"),
    path("opt-outs/", api.OptOutView.as_view(), name="opt-outs"),
]
