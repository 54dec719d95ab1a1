"""Audio deltas are read without a JSON parse, and always to the same result as one."""

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from agents.realtime import audio_delta_event

ids = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
payloads = st.binary(max_size=400).map(lambda audio: base64.b64encode(audio).decode())


@given(response_id=ids, item_id=ids, delta=payloads, event_id=ids)
def test_it_reads_an_audio_delta_as_a_json_parse_would(response_id, item_id, delta, event_id):
    text = json.dumps(
        {
            "type": "response.output_audio.delta",
            "event_id": event_id,
            "response_id": response_id,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "delta": delta,
        },
        separators=(",", ":"),
    )
    event = audio_delta_event(text)
    if event is None:  # an id with escapes: the caller parses the text in full
        assert "\\" in text
        return
    parsed = json.loads(text)
    assert event == {key: parsed[key] for key in ("type", "response_id", "item_id", "delta")}


def test_it_leaves_every_other_event_to_the_json_parser():
    assert audio_delta_event('{"type":"response.done","response":{"id":"resp_1"}}') is None
    assert audio_delta_event('{"type": "response.output_audio.delta", "delta": "AA=="}') is None
    assert audio_delta_event('{"type":"response.output_audio.delta","delta":"AA=="}') is None
