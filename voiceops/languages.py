"""Language tags (BCP 47, such as `es` or `fr-CA`): one parser for every place a language
enters the system (contacts, their CSV column, agents and their variants).

Stored tags are canonical: the language subtag in lower case, a script in title case, a
region in upper case (`zh-Hant-TW`). Only the language, script and region subtags are
accepted; that is all a phone agent can act on.
"""

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError

_TAG = re.compile(r"^([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|[0-9]{3}))?$")


class InvalidLanguage(ValueError):
    def __init__(self, value: str):
        self.value = value
        super().__init__(
            f"{value!r} is not a language tag such as 'en', 'es' or 'fr-CA' (BCP 47: a "
            "language, then optionally a script and a region, joined by hyphens)"
        )


def normalize_language(value: str) -> str:
    """`value` as a canonical tag (`FR_ca` → `fr-CA`); raise InvalidLanguage."""
    match = _TAG.match((value or "").strip().replace("_", "-").lower())
    if match is None:
        raise InvalidLanguage(value)
    language, script, region = match.groups()
    return "-".join(
        part for part in (language, script and script.title(), region and region.upper()) if part
    )


def validate_language_tag(value: str) -> None:
    """Model-field validator: the value must already be a canonical tag."""
    try:
        normalized = normalize_language(value)
    except InvalidLanguage as error:
        raise ValidationError(str(error), code="invalid_language") from None
    if normalized != value:
        raise ValidationError(f"Write {value!r} as {normalized!r}.", code="invalid_language")


def primary_language(tag: str) -> str:
    """The language subtag alone (`fr-CA` → `fr`): what speech transcription takes."""
    return tag.split("-", 1)[0].lower()


def best_match(requested: str, offered: Iterable[str]) -> str | None:
    """The offered tag that serves a person who speaks `requested`: the same tag, else one
    of the same language (`es-MX` is served by `es`, and `es` by `es-ES`), else None."""
    offered = list(offered)
    by_tag = {tag.lower(): tag for tag in offered}
    if requested.lower() in by_tag:
        return by_tag[requested.lower()]
    language = primary_language(requested)
    if language in by_tag:
        return by_tag[language]
    return next((tag for tag in offered if primary_language(tag) == language), None)
