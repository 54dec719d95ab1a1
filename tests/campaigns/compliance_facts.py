"""Facts for compliance tests: a number that every rule but the one under test allows."""

from campaigns.compliance import Facts


def callable_facts(phone: str, **overrides) -> Facts:
    values = {
        "phone": phone,
        "purpose": "informational",
        "consent": "express",
        "caller_id_owned": True,
    }
    values.update(overrides)
    return Facts(**values)
