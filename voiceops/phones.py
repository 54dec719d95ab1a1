"""Phone numbers: one parser for every place a number enters the system.

Stored numbers are always E.164 (`+13055550123`). Anything else is refused with an error
that names the value and why, so an operator can fix the row that carried it.
"""

import phonenumbers
from django.core.exceptions import ValidationError


class InvalidPhoneNumber(ValueError):
    def __init__(self, value: str, reason: str):
        self.value = value
        self.reason = reason
        super().__init__(f"{value!r} is not a valid phone number: {reason}")


def normalize_phone(value: str, *, region: str = "US") -> str:
    """Return `value` as E.164, reading national formats in `region`; raise InvalidPhoneNumber."""
    raw = (value or "").strip()
    if not raw:
        raise InvalidPhoneNumber(value, "it is empty")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(value, str(error.args[0]).rstrip(".").lower()) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(value, "it has the wrong number of digits")
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(value, "no such number is assigned in its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    """Model-field validator: the value must already be a valid number in E.164 form."""
    try:
        normalized = normalize_phone(value)
    except InvalidPhoneNumber as error:
        raise ValidationError(str(error), code="invalid_phone") from None
    if normalized != value:
        raise ValidationError(
            f"{value!r} is not in E.164 form; write it as {normalized!r}.", code="not_e164"
        )


def spoken_number(number: str) -> str:
    """`+12025550143` → `(202) 555-0143`: how a person reads a number aloud."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
