"""Every API endpoint under /api/ (the `api` namespace), the API root, the OpenAPI schema
and the interactive docs (served from installed packages, no CDN)."""

from django.urls import include, path
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from agents.api import AgentViewSet
from calls.api import CallViewSet, PhoneNumberViewSet
from campaigns import api
from campaigns.api_campaigns import CampaignViewSet, SurveyViewSet
from campaigns.api_organization import CurrentOrganizationView

router = SimpleRouter()
router.register("contacts", api.ContactViewSet, basename="contact")
router.register("imports", api.ImportJobViewSet, basename="import-job")
router.register("registry-syncs", api.RegistrySyncViewSet, basename="registry-sync")
router.register("agents", AgentViewSet, basename="agent")
router.register("surveys", SurveyViewSet, basename="survey")
router.register("phone-numbers", PhoneNumberViewSet, basename="phone-number")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("calls", CallViewSet, basename="call")

RESOURCES = {
    "organization": "api:organization",
    "contacts": "api:contact-list",
    "contact_import": "api:contact-import",
    "imports": "api:import-job-list",
    "suppressions": "api:suppressions",
    "suppression_import": "api:suppression-import",
    "opt_outs": "api:opt-outs",
    "registry_syncs": "api:registry-sync-list",
    "agents": "api:agent-list",
    "surveys": "api:survey-list",
    "phone_numbers": "api:phone-number-list",
    "campaigns": "api:campaign-list",
    "calls": "api:call-list",
    "schema": "api:schema",
    "docs": "api:docs",
}


class ApiRoot(APIView):
    """Where each resource lives, its schema and its docs."""

    permission_classes = [AllowAny]  # only links: nothing of any organisation

    @extend_schema(
        tags=["root"],
        auth=[],
        responses=inline_serializer(
            "ApiRoot", {name: serializers.URLField() for name in RESOURCES}
        ),
    )
    def get(self, request):
        return Response({name: reverse(url, request=request) for name, url in RESOURCES.items()})


class SchemaView(SpectacularAPIView):
    permission_classes = [AllowAny]  # the contract is public; the data is not


class DocsView(SpectacularSwaggerView):
    permission_classes = [AllowAny]


app_name = "api"

urlpatterns = [
    path("", ApiRoot.as_view(), name="root"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    path("organization/", CurrentOrganizationView.as_view(), name="organization"),
    # Before the router: "import" is not a contact's id.
    path("contacts/import/", api.ContactImportView.as_view(), name="contact-import"),
    path("suppressions/", api.SuppressionListCreate.as_view(), name="suppressions"),
    path("suppressions/<int:pk>/", api.SuppressionDetail.as_view(), name="suppression"),
    path("suppressions/import/", api.RegistryImportView.as_view(), name="suppression-import"),
    path("opt-outs/", api.OptOutView.as_view(), name="opt-outs"),
    path("", include(router.urls)),
]
