import pytest
from django.core.exceptions import ValidationError

from tests.factories import ContactFactory
from voiceops.phones import InvalidPhoneNumber, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(305) 555-0123", "+13055550123"),
        ("+1 305 555 0123", "+13055550123"),
        ("305.555.0123", "+13055550123"),
    ],
)
def test_it_normalises_national_and_international_formats(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "it is empty"),
        ("call me", "the string supplied did not seem to be a phone number"),
        ("305-555", "it has the wrong number of digits"),
        ("+1 111 555 0123", "no such number is assigned in its country"),
    ],
)
def test_it_rejects_a_malformed_number_naming_it(raw, reason):
    with pytest.raises(InvalidPhoneNumber) as error:
        normalize_phone(raw)

    assert str(error.value) == f"{raw!r} is not a valid phone number: {reason}"


@pytest.mark.django_db
def test_a_contact_with_a_malformed_number_does_not_validate():
    contact = ContactFactory.build(organization=ContactFactory().organization, phone="+1 555")

    with pytest.raises(ValidationError) as error:
        contact.full_clean()

    assert "'+1 555' is not a valid phone number" in str(error.value.message_dict["phone"])
