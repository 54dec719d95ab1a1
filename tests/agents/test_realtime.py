"""The Realtime client's wire shapes."""

from agents.realtime import HistoryEntry, SessionSettings, realtime_url


def test_it_builds_the_websocket_url_from_the_api_base_url():
    assert (
        realtime_url(base_url="https://api.openai.com/v1", model="gpt-realtime-2.1")
        == "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1"
    )
    assert (
        realtime_url(base_url="http://127.0.0.1:8123/v1/", model="gpt-realtime")
        == "ws://127.0.0.1:8123/v1/realtime?model=gpt-realtime"
    )


def test_it_configures_a_ga_session_with_mu_law_both_ways():
    session = SessionSettings(
        instructions="Be kind.",
        voice="marin",
        turn_detection={"type": "server_vad"},
        tools=[],
    ).to_wire()

    assert session["type"] == "realtime"
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["output"]["voice"] == "marin"
    assert session["audio"]["input"]["transcription"]["model"]
    assert "voice" not in session
    assert "input_audio_format" not in session


def test_it_restores_history_as_text_items():
    assert HistoryEntry("user", "Yes.").to_item() == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Yes."}],
    }
    assert HistoryEntry("assistant", "Hello.").to_item()["content"][0]["type"] == "output_text"
