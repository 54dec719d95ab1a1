"""`sandbox.carrier`: a Twilio stand-in speaking Twilio's real protocols on loopback.

    from sandbox.carrier import Carrier

    with Carrier(numbers={"+15005550006": None}, calls_per_second=5) as carrier:
        client = twilio.rest.Client(carrier.account_sid, carrier.auth_token)
        client.api.base_url = carrier.base_url   # how twilio 9.x is pointed elsewhere
        call = client.calls.create(to="+15551230000", from_="+15005550006", url=answer_url)
        finished = carrier.wait_for_call(call.sid)
        finished.played_audio, finished.recording_paths, finished.log_entries("media")

Pointing the `twilio` SDK (9.13) at the carrier: the SDK has no base-URL setting; its Api
domain keeps a plain `base_url` attribute ("https://api.twilio.com") that every Calls
request is built from, so assigning `client.api.base_url = carrier.base_url` after creating
the client sends `client.calls…` to the carrier (`Carrier.twilio_client()` does exactly
this). Production code does the same with the `TWILIO_API_URL` setting.

The carrier serves the Calls REST subset with Twilio's JSON and error shapes, queues calls
beyond its calls-per-second, posts status and answering-machine-detection callbacks signed
like Twilio's, fetches the answer URL, follows `<Connect><Stream>` and speaks Media Streams
in real time to a persona (`sandbox.carrier.personas`) who hears the agent's audio and
answers with real synthesised speech. Every call is recorded (`recording.py`) and logged.
"""

from sandbox.carrier.callee import Manners
from sandbox.carrier.calls import Billing, Call
from sandbox.carrier.lifecycle import Timing
from sandbox.carrier.pacing import RequestRateLimit
from sandbox.carrier.personas import PERSONA_BY_LAST_TWO_DIGITS, PERSONAS
from sandbox.carrier.server import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    Carrier,
)

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_NUMBER",
    "PERSONAS",
    "PERSONA_BY_LAST_TWO_DIGITS",
    "Billing",
    "Call",
    "Carrier",
    "Manners",
    "RequestRateLimit",
    "Timing",
]
