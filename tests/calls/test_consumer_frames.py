"""Twilio's media frames are read without a JSON parse, and always to the same result as one."""

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from calls.consumers import media_payload

payloads = st.binary(min_size=1, max_size=400).map(lambda audio: base64.b64encode(audio).decode())


@given(
    payload=payloads,
    sequence=st.integers(min_value=1),
    track=st.sampled_from(["inbound", "outbound"]),
)
def test_it_cuts_the_inbound_payload_out_of_a_media_frame(payload, sequence, track):
    text = json.dumps(
        {
            "event": "media",
            "sequenceNumber": str(sequence),
            "media": {"track": track, "chunk": "1", "timestamp": "20", "payload": payload},
            "streamSid": "MZ" + "0" * 32,
        },
        separators=(",", ":"),
    )

    assert media_payload(text) == (payload if track == "inbound" else "")


def test_it_leaves_other_frames_and_other_layouts_to_the_json_parser():
    assert media_payload('{"event":"mark","mark":{"name":"item_1:1"}}') is None
    assert media_payload('{"event": "media", "media": {"payload": "AA=="}}') is None
    assert media_payload('{"event":"media","media":{"payload":"A\\/A="}}') is None
    assert media_payload('{"event":"media","media":{}}') is None
