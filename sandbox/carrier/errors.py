"""Errors the carrier's REST API returns, in Twilio's shape and with Twilio's codes."""

from __future__ import annotations

from typing import Any


class TwilioApiError(Exception):
    """A refused REST request: HTTP status plus Twilio's error code and message."""

    def __init__(self, http_status: int, code: int, message: str):
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.http_status,
        }


def authentication_failed() -> TwilioApiError:
    return TwilioApiError(401, 20003, "Authenticate")


def not_found(path: str) -> TwilioApiError:
    return TwilioApiError(404, 20404, f"The requested resource {path} was not found")


def too_many_requests() -> TwilioApiError:
    return TwilioApiError(429, 20429, "Too Many Requests")


def missing_to() -> TwilioApiError:
    return TwilioApiError(400, 21201, "No 'To' number is specified")


def invalid_to(to: str) -> TwilioApiError:
    return TwilioApiError(400, 21211, f"Invalid 'To' Phone Number: {to}")


def missing_from() -> TwilioApiError:
    return TwilioApiError(400, 21213, "No 'From' number is specified")


def from_not_owned(from_: str) -> TwilioApiError:
    return TwilioApiError(
        400,
        21210,
        f"The source phone number provided, {from_}, is not yet verified for your account. "
        "You may only make calls from phone numbers that you've verified or purchased "
        "from Twilio.",
    )


def missing_url() -> TwilioApiError:
    return TwilioApiError(400, 21205, "Url, Twiml or ApplicationSid is required")


def invalid_parameter(name: str, value: str) -> TwilioApiError:
    return TwilioApiError(400, 20001, f"Invalid value for {name}: {value!r}")


def not_in_progress() -> TwilioApiError:
    return TwilioApiError(400, 21220, "Call is not in-progress. Cannot redirect.")
