"""The API's one error shape: `{"errors": [{"field": ..., "message": ...}]}`.

`field` names the input at fault (`questions.1.text` inside nested input) or is null for
errors about the request as a whole (authentication, a missing role, an unknown id, a
status that forbids the action, throttling)."""

from django.db.models import ProtectedError
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler


class Conflict(APIException):
    """The object's current state forbids the action (409); the message says why."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object's current state forbids this action."
    default_code = "conflict"


def error_items(detail, field=None) -> list[dict]:
    if isinstance(detail, dict):
        if set(detail) == {"detail"}:
            return error_items(detail["detail"], field)
        items = []
        for name, value in detail.items():
            nested = name if field is None else f"{field}.{name}"
            items += error_items(value, None if name == "non_field_errors" else nested)
        return items
    if isinstance(detail, list):
        if field is not None and any(isinstance(value, dict) for value in detail):
            # A list of nested objects: name each by its place in the list.
            return [
                item
                for index, value in enumerate(detail)
                for item in error_items(value, f"{field}.{index}")
            ]
        return [item for value in detail for item in error_items(value, field)]
    return [{"field": field, "message": str(detail)}]


def errors_in_one_shape(exc, context):
    if isinstance(exc, ProtectedError):
        names = ", ".join(sorted({str(row) for row in exc.protected_objects})[:5])
        exc = Conflict(f"It is still used by {names}; it cannot be deleted.")
    response = exception_handler(exc, context)
    if response is not None:
        response.data = {"errors": error_items(response.data)}
    return response


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="The input at fault; null for the request as a whole."
    )
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    errors = ErrorItemSerializer(many=True)
