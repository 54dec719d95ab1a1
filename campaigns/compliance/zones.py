"""Where the called party may be: candidate time zones and candidate states.

The calling window must hold in every candidate zone under every candidate state's
rules, so every source adds to the sets and none narrows them:
- the zones `phonenumbers` gives for the number's block (ignoring `Etc/Unknown` and
  the country-wide list returned for toll-free and other non-geographic numbers);
- every zone of an area code that is split across zones, because the library falls
  back to a single area-code zone for exchanges it has no entry for;
- every zone of the state on file (postal codes are not mapped to zones: the whole
  state's zones are the cheap and safe answer);
- states: the state on file and the area code's state (FL, OK and CT presume a
  caller with their area code is in the state, and that is the rule for all).
"""

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import phonenumbers
from phonenumbers import timezone as phone_timezones

LOCATIONS_PATH = Path(__file__).parent / "data" / "us-locations.json"
# Regions whose subscribers fall under US law: the states, DC and the territories.
US_REGIONS = frozenset({"US", "PR", "VI", "GU", "AS", "MP"})
# A geographic block maps to at most a handful of zones; more means "all of NANP".
MAX_ZONES_FOR_A_BLOCK = 5
UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True, slots=True)
class Location:
    zones: tuple[str, ...]
    states: tuple[str, ...]
    problem: str | None = None
    """Why the location is unknown, or None when zones and states are known."""

    @property
    def is_known(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class LocationTables:
    area_code_states: dict[str, str]
    split_area_code_zones: dict[str, tuple[str, ...]]
    state_zones: dict[str, tuple[str, ...]]
    state_names: dict[str, str]


@cache
def location_tables() -> LocationTables:
    raw = json.loads(LOCATIONS_PATH.read_text(encoding="utf-8"))
    return LocationTables(
        area_code_states=raw["area_code_states"],
        split_area_code_zones={
            code: tuple(zones) for code, zones in raw["split_area_code_zones"].items()
        },
        state_zones={state: tuple(zones) for state, zones in raw["state_zones"].items()},
        state_names=raw["state_names"],
    )


def zones_and_state_for_number(phone: str) -> tuple[set[str], str | None]:
    """The number's own zones and the state its area code belongs to."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return set(), None
    if not phonenumbers.is_valid_number(number):
        return set(), None
    zones: set[str] = set()
    if phonenumbers.is_number_geographical(number):
        block_zones = phone_timezones.time_zones_for_number(number)
        if len(block_zones) <= MAX_ZONES_FOR_A_BLOCK:
            zones.update(zone for zone in block_zones if zone != UNKNOWN_ZONE)
    state = None
    if number.country_code == 1:
        tables = location_tables()
        area_code = phonenumbers.national_significant_number(number)[:3]
        if zones:
            zones.update(tables.split_area_code_zones.get(area_code, ()))
        if phonenumbers.region_code_for_number(number) in US_REGIONS:
            state = tables.area_code_states.get(area_code)
    return zones, state


@lru_cache(maxsize=100_000)
def locate(phone: str, state: str | None = None, postal_code: str | None = None) -> Location:
    """Candidate zones and states for a number and the address on file (cached per input).

    `state` is a USPS code or a full name ("TX", "Texas"), any case.

    `postal_code` is accepted for the contract but not used yet: the state's zones
    are added whole, which is never less safe than a postal-code lookup.
    """
    del postal_code
    tables = location_tables()
    zones, area_code_state = zones_and_state_for_number(phone)
    states: set[str] = set()
    if area_code_state is not None:
        states.add(area_code_state)
    if state is not None:
        state = state.strip().upper()
        state = tables.state_names.get(state, state)
        state_zones = tables.state_zones.get(state)
        if state_zones is None:
            return Location((), (), f"the state on file {state!r} is not a US state or territory")
        zones.update(state_zones)
        states.add(state)
    if not zones:
        return Location(
            (),
            tuple(sorted(states)),
            f"no time zone for {phone!r} (invalid, toll-free or non-geographic) "
            "and no address on file",
        )
    if not states:
        return Location(
            tuple(sorted(zones)),
            (),
            f"{phone!r} is not a US number and no US address is on file",
        )
    return Location(tuple(sorted(zones)), tuple(sorted(states)))
