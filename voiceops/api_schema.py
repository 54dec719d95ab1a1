"""How the OpenAPI schema describes every endpoint: its authentication (Bearer API key or
the admin's session) and the error responses every endpoint may give, in the one shape."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from voiceops.api_errors import ErrorSerializer

ERRORS = {
    "400": "Bad input: one item per field at fault.",
    "401": "No credentials, an unknown or revoked API key, or a bad session.",
    "403": "The role in this organisation does not allow it; the message names the role.",
    "404": "No such object in this organisation.",
    "409": "The object's current status forbids the action; the message says why.",
    "429": "Too many requests for this key or user; retry after `Retry-After` seconds.",
}


class ApiAutoSchema(AutoSchema):
    def error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        if getattr(self.view, "conflict_actions", None) and (
            getattr(self.view, "action", None) in self.view.conflict_actions
        ):
            codes.append("409")
        if self.method == "DELETE":
            codes.append("409")
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self.error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERRORS[code]
                responses[code] = response
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenancy.api_auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organisation's API key: `Authorization: Bearer vo_…`.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "tenancy.api_auth.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The admin's session (log in at /admin/); writes need the CSRF token.",
        }
