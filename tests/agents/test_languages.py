"""An agent's languages: variants are validated, and a contact's language picks one."""

import pytest
from django.core.exceptions import ValidationError

from agents.languages import agent_language
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

VARIANTS = {
    "es": {"instructions": "Recuerde la cita.", "voice": "coral"},
    "fr-CA": {"instructions": "Rappelez le rendez-vous.", "greeting": "Pouvez-vous confirmer?"},
}


@pytest.mark.parametrize(
    ("contact_language", "tag", "voice", "instructions"),
    [
        ("es", "es", "coral", "Recuerde la cita."),
        ("es-MX", "es", "coral", "Recuerde la cita."),
        ("fr", "fr-CA", "marin", "Rappelez le rendez-vous."),
        ("en-GB", "en", "marin", "Remind them."),
        ("de", "en", "marin", "Remind them."),
        (None, "en", "marin", "Remind them."),
    ],
)
def test_the_contacts_language_picks_a_variant_or_the_default(
    contact_language, tag, voice, instructions
):
    agent = AgentFactory(
        instructions="Remind them.", greeting="Confirm?", language_variants=VARIANTS
    )

    chosen = agent_language(agent, contact_language=contact_language)

    assert (chosen.tag, chosen.voice, chosen.instructions) == (tag, voice, instructions)


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"spanish": {"instructions": "x"}}, "'spanish' is not a language tag"),
        ({"es-mx": {"instructions": "x"}}, "Write the language variant 'es-mx' as 'es-MX'."),
        ({"es": {"voice": "coral"}}, "Language variant 'es' needs its instructions."),
        ({"es": {"instructions": "x", "voice": "hal"}}, "names the voice 'hal'"),
        ({"es": {"instructions": "x", "tone": "warm"}}, "has unknown keys tone"),
        ({"en": {"instructions": "x"}}, "'en' is the default language"),
    ],
)
def test_a_bad_variant_is_refused_with_a_clear_error(variants, message):
    agent = AgentFactory.build(instructions="Remind them.", language_variants=variants)

    with pytest.raises(ValidationError) as refused:
        agent.full_clean(exclude=["organization"])

    assert message in str(refused.value)
